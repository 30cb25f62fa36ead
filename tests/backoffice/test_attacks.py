"""An outside tester's attacks on the commune back-office (issue 12): each test is a defect
that was found by a real request, kept so that it stays fixed."""

from __future__ import annotations

import io

import pytest

from shared_apps.families.models import Child
from tenant_apps.bookings.models import Reservation
from tests.backoffice.attendance_helpers import make_agent
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a"


@pytest.fixture
def agent(commune_a):
    return make_agent(commune_a)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_the_former_booking_page_with_a_negative_family_is_a_404_not_a_500(agent_client):
    # /gestion/reserver-pour/?famille=-5 redirected to a path the resolver cannot build.
    for junk in ("-5", "-123", "9" * 30, "abc"):
        response = agent_client.get(f"{BASE}/gestion/reserver-pour/", {"famille": junk})
        assert response.status_code == 200  # not a family id: the page without a family


def test_a_child_name_with_control_characters_does_not_break_the_xlsx_lists(
    frozen, commune_a, in_commune, canteen, agent_client
):
    # A parent typed a name/notes with a control character (pasted from a PDF): the page shows
    # it, and the kitchen's XLSX must download too (openpyxl refuses such characters).
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1_000)
    Child.objects.filter(pk=family.kids[0].pk).update(
        first_name="=Lou\x0b", notes="PAI\x01 arachide\x1b"
    )
    added = family.api.post(
        f"{BASE}/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [family.kids[0].pk], "dates": ["2026-12-07"]},
        format="json",
    )
    assert added.status_code == 201
    assert (
        family.api.post(f"{BASE}/api/v1/cart/checkout", {"payment_method": "wallet"}).status_code
        == 201
    )
    response = agent_client.get(f"{BASE}/gestion/effectifs/effectifs.xlsx", {"date": "2026-12-07"})
    assert response.status_code == 200
    from openpyxl import load_workbook

    children = list(load_workbook(io.BytesIO(response.content))["Enfants"].values)
    assert any("'=Lou" in str(cell) for row in children for cell in row)
    assert not any(str(cell).startswith("=") for row in children for cell in row)


def test_booking_on_behalf_refuses_a_child_taken_off_the_familys_list(
    frozen, commune_a, in_commune, canteen, agent
):
    # The parent removed the child from the family's list (it left); the agent's booking form
    # must not book (and debit) a day for it, as the parent's own cart would not.
    from django.utils import timezone

    from shared_apps.wallet.selectors import pockets_of

    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1_000)
    Child.objects.filter(pk=family.kids[0].pk).update(removed_at=timezone.now())
    response = agent.api.post(
        f"{BASE}/api/v1/staff/reservations",
        {
            "child_id": family.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-10"],
            "consent_note": "Mme X au téléphone",
        },
        format="json",
    )
    # The answer for any child not enrolled here (the same whichever the reason).
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_enrolled"
    assert sum(p.balance_cents for p in pockets_of(family.family.pk)) == 1_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("real_connections")
def test_two_agents_marking_the_same_children_at_once_move_the_money_once(
    commune_a, in_commune, canteen
):
    from contextlib import ExitStack

    import time_machine
    from django_tenants.utils import tenant_context

    from tenant_apps.bookings.services.attendance import AttendanceResult, mark_attendance
    from tests.backoffice.attendance_helpers import (
        DAY,
        ON_THE_DAY,
        book,
        ledger_is_sound,
        pocket_cents,
        set_rules,
    )
    from tests.fixtures.bookings import NOW
    from tests.parallel import run_in_parallel

    set_rules(commune_a, canteen, absence_refund_percent=50, unbooked_presence="billed")
    with time_machine.travel(NOW, tick=False):
        parent = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
        other = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=500)
        book(parent, canteen, parent.kids)
    agents = [make_agent(commune_a) for _ in range(4)]
    kid, sibling, unbooked = parent.kids[0], parent.kids[1], other.kids[0]

    def job(agent, **lists):
        def run():
            return mark_attendance(
                commune=commune_a, staff_user=agent, day=DAY, product_id=canteen.pk, **lists
            )

        return run

    def context():
        stack = ExitStack()
        stack.enter_context(time_machine.travel(ON_THE_DAY, tick=False))
        stack.enter_context(tenant_context(commune_a))
        return stack

    results = run_in_parallel(
        [
            job(agents[0], present=[], absent=[kid.pk]),
            job(agents[1], present=[], absent=[kid.pk]),
            job(agents[2], present=[sibling.pk], absent=[], added=[unbooked.pk]),
            job(agents[3], present=[sibling.pk], absent=[], added=[unbooked.pk]),
        ],
        context=context,
    )
    assert all(isinstance(r, AttendanceResult) for r in results), results
    assert sum(r.refunded_cents for r in results) == 190  # half of 3,80 €, once
    assert sum(len(r.added) for r in results) == 1  # the unbooked child billed once
    assert pocket_cents(parent.family.pk) == 10_000 - 760 + 190
    assert pocket_cents(other.family.pk) == 500 - 380
    with in_commune(commune_a):
        assert Reservation.objects.filter(child_id=unbooked.pk, status="attended").count() == 1
    ledger_is_sound()


def test_the_accountants_exports_with_family_names_are_audited(
    frozen, commune_a, in_commune, canteen
):
    # The exports list families' names and payments: every reading of family data by staff
    # leaves a trace (the journal and the receipts did; the exports did not).
    from shared_apps.audit.models import AuditEntry
    from tenants.models import Role
    from tests.backoffice.cash_helpers import page_client, pay, staff

    manager = staff(commune_a, role=Role.MANAGER)
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    pay(commune_a, in_commune, manager, parent, canteen.service, 2500, "cash")
    client = page_client(manager)
    exports = f"{BASE}/gestion/regie/exports/"
    period = {"du": "2026-12-01", "au": "2026-12-31"}
    assert client.get(exports, period).status_code == 200
    assert client.get(exports, {**period, "format": "xlsx"}).status_code == 200
    assert (
        client.get(exports, {**period, "format": "csv", "tableau": "paiements"}).status_code == 200
    )
    assert client.get(exports).status_code == 200  # the bare form shows no family: no trace
    entries = AuditEntry.objects.filter(action="cash.export_view", actor=manager)
    assert [e.target_id for e in entries.order_by("pk")] == ["2026-12-01/2026-12-31"] * 3
    assert sorted(e.details.get("output") for e in entries) == ["csv", "page", "xlsx"]


def test_a_receipt_shown_on_the_counter_page_is_audited_like_its_pdf(
    frozen, commune_a, in_commune, canteen
):
    # ?recu=<id> shows any receipt of the commune (family, amount): browsing them must leave
    # the same trace as opening their PDF.
    from shared_apps.audit.models import AuditEntry
    from tests.backoffice.cash_helpers import page_client, pay, staff

    agent = staff(commune_a)
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    receipt = pay(commune_a, in_commune, agent, parent, canteen.service, 2500, "cash").receipt
    other = staff(commune_a)
    page = page_client(other).get(f"{BASE}/gestion/versements/", {"recu": receipt.pk})
    assert page.status_code == 200 and receipt.number in page.content.decode()
    entry = AuditEntry.objects.get(action="cash.receipt_view", actor=other)
    assert entry.target_id == str(receipt.pk)


def test_a_deactivated_commune_moves_no_money_by_attendance(
    frozen, commune_a, in_commune, canteen, agent, parent
):
    # The request's commune may be a stale cached copy (tenants.services.lock_active_commune):
    # a counter payment, a checkout or a booking on behalf of a commune closed meanwhile move
    # nothing; an attendance marking refunded and billed all the same.
    from tenant_apps.bookings.services.attendance import mark_attendance
    from tenants.models import Commune
    from tenants.services import CommuneInactive
    from tests.backoffice.attendance_helpers import (
        DAY,
        ON_THE_DAY,
        book,
        ledger_is_sound,
        pocket_cents,
        set_rules,
    )

    set_rules(commune_a, canteen, absence_refund_percent=100, unbooked_presence="billed")
    other = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=500)
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    Commune.objects.filter(pk=commune_a.pk).update(is_active=False)  # commune_a: the stale copy
    with in_commune(commune_a):
        with pytest.raises(CommuneInactive):
            mark_attendance(
                commune=commune_a,
                staff_user=agent,
                day=DAY,
                product_id=canteen.pk,
                present=[],
                absent=[parent.kids[0].pk],
                added=[other.kids[0].pk],
            )
        assert list(Reservation.objects.values_list("status", flat=True)) == ["booked"]
    assert pocket_cents(parent.family.pk) == 10_000 - 380
    assert pocket_cents(other.family.pk) == 500
    ledger_is_sound()


@pytest.mark.parametrize("junk", ["2026-13-07", "demain", "07/12/2026", "9" * 30])
def test_a_tap_with_a_bad_day_marks_nothing_rather_than_today(
    frozen, commune_a, in_commune, canteen, agent_client, parent, junk
):
    # The page fell back to today for a bad `jour` in the POST too: the tap then marked today's
    # list, whatever day the agent meant. Bad input: a French error, nothing changed.
    from tests.backoffice.attendance_helpers import ON_THE_DAY, PAGE, book

    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)  # the 7th: the child is booked today
    response = agent_client.post(
        PAGE,
        {"jour": junk, "produit": canteen.pk, "action": f"absent:{parent.kids[0].pk}"},
        follow=True,
    )
    assert response.status_code in (200, 400)
    assert "Jour invalide" in response.content.decode()
    with in_commune(commune_a):
        assert list(Reservation.objects.values_list("status", flat=True)) == ["booked"]


def test_a_tap_without_its_product_marks_nothing_rather_than_the_first_product(
    frozen, commune_a, in_commune, canteen, agent_client, parent
):
    from tests.backoffice.attendance_helpers import DAY, ON_THE_DAY, PAGE, book

    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    response = agent_client.post(
        PAGE, {"jour": DAY, "action": f"absent:{parent.kids[0].pk}"}, follow=True
    )
    assert response.status_code == 200
    assert "Choisissez la prestation" in response.content.decode()
    with in_commune(commune_a):
        assert list(Reservation.objects.values_list("status", flat=True)) == ["booked"]
