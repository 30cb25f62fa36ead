"""Attendance ("pointage") rules: what a marking bills or refunds, exactly once, in the ledger."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shared_apps.audit.models import AuditEntry
from shared_apps.wallet.models import LedgerTransaction
from tenant_apps.bookings.models import (
    AttendanceMark,
    Order,
    OrderStatus,
    PaymentChoice,
    Reservation,
)
from tenant_apps.bookings.services.attendance import absence_refund_cents
from tests.backoffice.attendance_helpers import (
    BASE,
    DAY,
    NEXT_DAY,
    ON_THE_DAY,
    book,
    ledger_is_sound,
    make_agent,
    mark,
    pocket_cents,
    set_rules,
)
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import make_family
from tests.fixtures.files import pdf_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(commune_a):
    return make_agent(commune_a)


def _statuses(commune, in_commune):
    with in_commune(commune):
        return dict(Reservation.objects.values_list("child_id", "status"))


def test_absence_refund_is_the_rules_share_rounded_down():
    assert (
        absence_refund_cents(
            price_cents=385,
            refund_cents=0,
            late_fee_cents=0,
            absence_percent=50,
            sick_percent=None,
            has_certificate=True,
        )
        == 192
    )
    assert (
        absence_refund_cents(
            price_cents=380,
            refund_cents=80,
            late_fee_cents=0,
            absence_percent=0,
            sick_percent=100,
            has_certificate=True,
        )
        == 300
    )
    assert (
        absence_refund_cents(
            price_cents=380,
            refund_cents=0,
            late_fee_cents=0,
            absence_percent=0,
            sick_percent=100,
            has_certificate=False,
        )
        == 0
    )


def test_an_absence_is_refunded_once_and_corrections_move_the_money_back_and_forth(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=50)
    kid = parent.kids[0]
    book(parent, canteen, parent.kids)
    family = parent.family.pk
    assert pocket_cents(family) == 10_000 - 760
    frozen.move_to(ON_THE_DAY)

    first = mark(agent, canteen, absent=[kid.pk])
    assert first.status_code == 200, first.json()
    assert first.json()["refunded_cents"] == 190 and first.json()["updated"] == 1
    again = mark(agent, canteen, absent=[kid.pk])  # a double tap, a retry
    assert again.json()["updated"] == 0 and again.json()["refunded_cents"] == 0
    assert pocket_cents(family) == 9_240 + 190

    back = mark(agent, canteen, present=[kid.pk])  # the child was there after all
    assert back.json()["taken_back_cents"] == 190
    assert pocket_cents(family) == 9_240
    mark(agent, canteen, present=[kid.pk])
    assert pocket_cents(family) == 9_240

    absent_again = mark(agent, canteen, absent=[kid.pk])
    assert absent_again.json()["refunded_cents"] == 190
    assert pocket_cents(family) == 9_240 + 190
    ledger_is_sound()
    assert LedgerTransaction.objects.filter(source_key__startswith="attendance:").count() == 3
    with in_commune(commune_a):
        marks = list(AttendanceMark.objects.values_list("before", "after", "money_cents"))
        assert marks == [("booked", "absent", 190), ("absent", "attended", -190),
                         ("attended", "absent", 190)]  # fmt: skip
        assert all(m.marked_by_id == agent.pk for m in AttendanceMark.objects.all())
    audits = AuditEntry.objects.filter(action="booking.attendance", actor=agent)
    assert audits.count() == 3  # the double taps changed nothing and wrote nothing
    assert audits.first().details["changes"][0]["child"] == kid.pk


def test_no_refund_when_the_rule_gives_nothing_back(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    response = mark(agent, canteen, absent=[parent.kids[0].pk])
    assert response.json()["updated"] == 1 and response.json()["refunded_cents"] == 0
    assert pocket_cents(parent.family.pk) == 10_000 - 380
    assert _statuses(commune_a, in_commune) == {parent.kids[0].pk: "absent"}
    ledger_is_sound()


def test_a_direct_debit_absence_is_taken_off_the_invoice_without_money(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=100)
    give_mandate(commune_a, parent.family.pk)  # "Prélèvement" needs an active SEPA mandate
    book(parent, canteen, parent.kids[:1], method="direct_debit")
    frozen.move_to(ON_THE_DAY)
    response = mark(agent, canteen, absent=[parent.kids[0].pk])
    assert response.json()["off_invoice_cents"] == 380
    assert response.json()["refunded_cents"] == 0
    assert pocket_cents(parent.family.pk) == 10_000
    with in_commune(commune_a):
        assert Reservation.objects.get().attendance_refund_cents == 380
    back = mark(agent, canteen, present=[parent.kids[0].pk])
    assert back.json()["off_invoice_cents"] == -380
    with in_commune(commune_a):
        assert Reservation.objects.get().attendance_refund_cents == 0
    ledger_is_sound()


def test_a_refund_the_pocket_no_longer_holds_is_due_on_the_next_invoice(
    frozen, agent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=100)
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=380)
    book(family, canteen, family.kids)
    frozen.move_to(ON_THE_DAY)
    mark(agent, canteen, absent=[family.kids[0].pk])
    assert pocket_cents(family.family.pk) == 380
    # The family spends its refund on another day before the agent's correction.
    frozen.move_to(ON_THE_DAY.replace(hour=12, minute=5))
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
    from shared_apps.wallet.services import pay_from_wallet

    pay_from_wallet(
        source_key="test-spend",
        family_id=family.family.pk,
        commune=commune_a,
        service_id=canteen.service_id,
        amount_cents=380,
        description="ailleurs",
    )
    corrected = mark(agent, canteen, present=[family.kids[0].pk])
    assert corrected.json()["to_invoice_cents"] == 380
    assert corrected.json()["taken_back_cents"] == 0
    with in_commune(commune_a):
        reservation.refresh_from_db()
        assert (reservation.attendance_refund_cents, reservation.attendance_due_cents) == (0, 380)
    again = mark(agent, canteen, absent=[family.kids[0].pk])  # absent after all: due cleared
    assert again.json()["to_invoice_cents"] == -380 and again.json()["refunded_cents"] == 0
    with in_commune(commune_a):
        reservation.refresh_from_db()
        assert (reservation.attendance_refund_cents, reservation.attendance_due_cents) == (380, 0)
    assert pocket_cents(family.family.pk) == 0
    ledger_is_sound()


# --- Unbooked presence ---------------------------------------------------------------------


def test_an_unbooked_child_is_billed_the_set_price_once_and_a_correction_gives_it_back(
    frozen, agent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, unbooked_presence="billed", unbooked_price_cents=550)
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=2_000)
    kid = family.kids[0]
    frozen.move_to(ON_THE_DAY)
    added = mark(agent, canteen, added=[kid.pk])
    assert added.status_code == 200, added.json()
    assert added.json()["billed_cents"] == 550 and len(added.json()["added"]) == 1
    assert pocket_cents(family.family.pk) == 1_450
    twice = mark(agent, canteen, added=[kid.pk])  # a double tap: already there
    assert twice.json()["updated"] == 0 and pocket_cents(family.family.pk) == 1_450
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
        assert (reservation.status, reservation.added_at_attendance) == ("attended", True)
        assert reservation.price_cents == 550 and reservation.paid_by == PaymentChoice.WALLET

    undone = mark(agent, canteen, absent=[kid.pk])  # marked by mistake
    assert undone.json()["refunded_cents"] == 550
    assert pocket_cents(family.family.pk) == 2_000
    assert _statuses(commune_a, in_commune) == {kid.pk: "cancelled"}

    again = mark(agent, canteen, added=[kid.pk])  # and there after all
    assert again.json()["billed_cents"] == 550
    assert pocket_cents(family.family.pk) == 1_450
    ledger_is_sound()


def test_an_unbooked_child_without_credit_is_due_on_the_next_invoice(
    frozen, agent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, unbooked_presence="billed", unbooked_price_cents=None)
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=100)
    frozen.move_to(ON_THE_DAY)
    response = mark(agent, canteen, added=[family.kids[0].pk])
    assert response.json()["to_invoice_cents"] == 380  # the product's price: no set price
    assert response.json()["billed_cents"] == 0
    assert pocket_cents(family.family.pk) == 100  # never below zero, never touched
    with in_commune(commune_a):
        order = Order.objects.get()
        assert (order.status, order.payment_method) == (
            OrderStatus.TO_INVOICE,
            PaymentChoice.DIRECT_DEBIT,
        )
    undone = mark(agent, canteen, absent=[family.kids[0].pk])
    assert undone.json()["to_invoice_cents"] == -380 and undone.json()["refunded_cents"] == 0
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
        assert (reservation.status, reservation.refund_cents) == ("cancelled", 380)
    ledger_is_sound()


def test_an_unbooked_child_is_refused_when_the_rule_forbids_it(
    frozen, agent, canteen, commune_a, in_commune
):
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=2_000)
    frozen.move_to(ON_THE_DAY)
    response = mark(agent, canteen, added=[family.kids[0].pk])
    assert response.status_code == 409
    assert "n’accepte pas d’enfant sans réservation" in response.json()["error"]["message"]
    assert pocket_cents(family.family.pk) == 2_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists() and not Order.objects.exists()


def test_a_child_of_another_commune_or_not_enrolled_cannot_be_added(
    frozen, agent, canteen, commune_a, commune_b, in_commune
):
    from tenant_apps.catalog.models import Service, ServiceKind

    set_rules(commune_a, canteen, unbooked_presence="billed")
    with in_commune(commune_b):
        service_b = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine B")
    stranger = make_family(commune_b, in_commune, service_b, children=1, funds_cents=2_000)
    frozen.move_to(ON_THE_DAY)
    response = mark(agent, canteen, added=[stranger.kids[0].pk])
    assert response.status_code == 404
    assert pocket_cents(stranger.family.pk) == 2_000


# --- Sick child, medical certificate ---------------------------------------------------------


def _certificate(client, reservation_id, *, staff=False):
    path = (
        f"{BASE}/staff/reservations/{reservation_id}/certificate"
        if staff
        else f"{BASE}/reservations/{reservation_id}/certificate"
    )
    return client.post(path, {"file": pdf_file("certificat.pdf")}, format="multipart")


def test_a_sick_absence_is_refunded_with_a_certificate_once(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=0, sick_refund_percent=100)
    book(parent, canteen, parent.kids[:1])
    family = parent.family.pk
    frozen.move_to(ON_THE_DAY)
    mark(agent, canteen, absent=[parent.kids[0].pk])
    assert pocket_cents(family) == 10_000 - 380  # no certificate, no refund
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
    uploaded = _certificate(parent.api, reservation.pk)
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["attendance_refund_cents"] == 380
    assert pocket_cents(family) == 10_000
    own = parent.api.get(f"{BASE}/reservations/{reservation.pk}/certificate")
    assert own.status_code == 200 and b"".join(own.streaming_content).startswith(b"%PDF-")
    stranger = make_family(commune_a, in_commune, canteen.service, children=1)
    assert stranger.api.get(f"{BASE}/reservations/{reservation.pk}/certificate").status_code == 404
    second = _certificate(agent.api, reservation.pk, staff=True)  # one more: nothing more
    assert second.status_code == 201 and pocket_cents(family) == 10_000
    ledger_is_sound()
    assert AuditEntry.objects.filter(action="booking.medical_certificate").count() == 2


def test_a_certificate_changes_nothing_when_the_rule_does_not_allow_it(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=0, sick_refund_percent=None)
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    mark(agent, canteen, absent=[parent.kids[0].pk])
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
    assert _certificate(parent.api, reservation.pk).json()["attendance_refund_cents"] == 0
    assert pocket_cents(parent.family.pk) == 10_000 - 380
    ledger_is_sound()


def test_a_certificate_sent_in_the_morning_counts_when_the_agent_marks_the_absence(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, sick_refund_percent=100)
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY.replace(hour=8))
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
    assert _certificate(parent.api, reservation.pk).json()["attendance_refund_cents"] == 0
    frozen.move_to(ON_THE_DAY)
    assert mark(agent, canteen, absent=[parent.kids[0].pk]).json()["refunded_cents"] == 380
    assert pocket_cents(parent.family.pk) == 10_000
    ledger_is_sound()


def test_certificates_refused_for_a_day_to_come_a_present_child_or_another_family(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, sick_refund_percent=100)
    book(parent, canteen, parent.kids)
    other = make_family(commune_a, in_commune, canteen.service, children=1)
    with in_commune(commune_a):
        first, second = Reservation.objects.order_by("child_id")
    assert _certificate(parent.api, first.pk).status_code == 409  # a day to come
    frozen.move_to(ON_THE_DAY)
    mark(agent, canteen, present=[first.child_id])
    assert _certificate(parent.api, first.pk).status_code == 409  # present
    assert _certificate(other.api, second.pk).status_code == 404  # not their child
    refused = parent.api.post(
        f"{BASE}/reservations/{second.pk}/certificate",
        {"file": SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")},
        format="multipart",
    )
    assert refused.status_code == 400
    assert "Format non accepté" in refused.json()["error"]["message"]


# --- Corrections only the same day -----------------------------------------------------------


def test_a_marking_is_corrected_only_on_the_day_itself(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=100)
    book(parent, canteen, parent.kids)
    first, second = parent.kids
    frozen.move_to(ON_THE_DAY)
    mark(agent, canteen, present=[first.pk])
    frozen.move_to(NEXT_DAY)
    late = mark(agent, canteen, absent=[first.pk])
    assert late.status_code == 409
    assert late.json()["error"]["message"] == (
        "Le pointage du lundi 07/12 ne peut plus être modifié : une correction se fait le "
        "jour même."
    )
    assert pocket_cents(parent.family.pk) == 10_000 - 760
    # A child nobody marked yesterday can still be marked today (a late pointage).
    assert mark(agent, canteen, absent=[second.pk]).json()["refunded_cents"] == 380
    assert _statuses(commune_a, in_commune) == {first.pk: "attended", second.pk: "absent"}
    ledger_is_sound()


def test_a_day_to_come_cannot_be_marked(frozen, agent, parent, canteen):
    book(parent, canteen, parent.kids[:1])
    response = mark(agent, canteen, present=[parent.kids[0].pk])
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "On ne pointe pas un jour à venir."
    assert DAY == "2026-12-07"
