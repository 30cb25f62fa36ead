"""The régie: numbered receipts written with the money, the PDF receipt, the daily journal,
closing a day, rights and isolation, and query counts constant in the number of payments."""

from __future__ import annotations

import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from shared_apps.audit.models import AuditEntry
from shared_apps.wallet.errors import DuplicateCounterPayment
from shared_apps.wallet.models import AccountKind, LedgerTransaction, Posting
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.backoffice import services
from tenant_apps.backoffice.models import DayClosing, Receipt, ReceiptCounter
from tenant_apps.backoffice.services import DayClosed
from tenants.models import Role
from tests.backoffice.cash_helpers import page_client, pay, staff
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

JOURNAL = "/c/commune-a/gestion/regie/"
COUNTER = "/c/commune-a/gestion/versements/"
API = "/c/commune-a/api/v1/staff"
TODAY = "2026-12-03"  # tests.fixtures.bookings.NOW


@pytest.fixture
def family(commune_a, in_commune, canteen):
    return make_family(commune_a, in_commune, canteen.service, children=1)


@pytest.fixture
def agent(commune_a):
    return staff(commune_a, first_name="Agnès", last_name="Guichet")


@pytest.fixture
def manager(commune_a):
    return staff(commune_a, Role.MANAGER, first_name="Marc", last_name="Régisseur")


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def _counter_total(commune) -> int:
    """What the ledger says was received at this commune's counter: the direct sum."""
    total = sum(
        Posting.objects.filter(
            account__kind=AccountKind.COUNTER, account__commune=commune
        ).values_list("amount_cents", flat=True)
    )
    return -total


# --- receipts -----------------------------------------------------------------------------------


def test_each_counter_payment_gets_the_next_receipt_number(
    frozen, commune_a, in_commune, canteen, agent, family
):
    numbers = [
        pay(commune_a, in_commune, agent, family, canteen.service, cents).receipt.number
        for cents in (2500, 1550, 800)
    ]
    assert numbers == ["R-2026-000001", "R-2026-000002", "R-2026-000003"]
    with in_commune(commune_a):
        receipts = list(Receipt.objects.order_by("sequence"))
        assert ReceiptCounter.objects.get(year=2026).last_number == 3
    # One receipt per ledger movement, for the same amount, family and service.
    for receipt in receipts:
        movement = LedgerTransaction.objects.get(pk=receipt.ledger_transaction_id)
        assert movement.postings.get(amount_cents__gt=0).amount_cents == receipt.amount_cents
        assert movement.wallet.family_id == receipt.family_id == family.family.pk
    assert _balance(family) == 4850


def test_a_payment_whose_receipt_fails_moves_no_money_and_gives_its_number_back(
    frozen, commune_a, in_commune, canteen, agent, family, monkeypatch
):
    original = Receipt.objects.create

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Receipt.objects, "create", broken)
    with pytest.raises(RuntimeError):
        pay(commune_a, in_commune, agent, family, canteen.service, 2500)
    assert not LedgerTransaction.objects.filter(kind="counter_credit").exists()
    assert _balance(family) == 0
    monkeypatch.setattr(Receipt.objects, "create", original)

    receipt = pay(commune_a, in_commune, agent, family, canteen.service, 2500).receipt
    assert receipt.number == "R-2026-000001"


def test_a_retry_with_the_same_reference_returns_the_same_receipt(
    frozen, commune_a, in_commune, canteen, agent, family
):
    first = pay(commune_a, in_commune, agent, family, canteen.service, 2500, "cheque", "CHQ 42")
    again = pay(commune_a, in_commune, agent, family, canteen.service, 2500, "cheque", " chq 42 ")
    assert first.created and not again.created
    assert again.receipt.pk == first.receipt.pk
    with pytest.raises(DuplicateCounterPayment, match="R-2026-000001"):
        pay(commune_a, in_commune, agent, family, canteen.service, 3000, "cheque", "CHQ 42")
    with in_commune(commune_a):
        assert Receipt.objects.count() == 1
    assert _balance(family) == 2500


def test_the_api_answers_the_receipt_number_and_names_it_on_a_replay(
    frozen, commune_a, canteen, agent, family
):
    data = {
        "family_id": family.family.pk,
        "service_id": canteen.service.pk,
        "amount_cents": 2500,
        "method": "cash",
        "reference": "Reçu 7",
    }
    created = client_for(agent).post(f"{API}/wallet-credits", data)
    assert created.status_code == 201, created.json()
    assert created.json()["receipt_number"] == "R-2026-000001"
    replay = client_for(agent).post(f"{API}/wallet-credits", data)
    assert replay.status_code == 409
    assert "R-2026-000001" in replay.json()["error"]["message"]
    assert _balance(family) == 2500


def test_the_counter_page_shows_the_receipt_to_print_after_saving(
    frozen, commune_a, canteen, agent, family
):
    client = page_client(agent)
    response = client.post(
        COUNTER,
        {
            "family_id": family.family.pk,
            "service_id": canteen.service.pk,
            "amount": "15,50",
            "method": "cheque",
            "reference": "CHQ 0042",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Versement enregistré : reçu n° R-2026-000001" in _text(page)
    assert 'href="/c/commune-a/gestion/regie/recus/' in page

    # Submitting the same form again (a double click) gives the same receipt back.
    again = client.post(
        COUNTER,
        {
            "family_id": family.family.pk,
            "service_id": canteen.service.pk,
            "amount": "15,50",
            "method": "cheque",
            "reference": "CHQ 0042",
        },
        follow=True,
    ).content.decode()
    assert "Ce versement était déjà enregistré : reçu n° R-2026-000001" in _text(again)
    assert _balance(family) == 1550


def test_the_pdf_receipt_shows_the_number_the_amount_and_who(
    frozen, commune_a, in_commune, canteen, agent, family
):
    receipt = pay(
        commune_a, in_commune, agent, family, canteen.service, 1550, "cheque", "CHQ 0042"
    ).receipt
    for url in (
        f"{JOURNAL}recus/{receipt.pk}/",
        f"{API}/receipts/{receipt.pk}",
    ):
        client = page_client(agent) if "gestion" in url else client_for(agent)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        pdf = PdfReader(io.BytesIO(response.content))
        assert len(pdf.pages) == 1  # one A5 sheet to hand over
        text = pdf.pages[0].extract_text()
        for expected in (
            "R-2026-000001",
            "15,50",
            "Chèque",
            "CHQ 0042",
            "Commune A",
            "Cantine",
            "Agnès Guichet",
            family.get_full_name(),
            "03/12/2026",
        ):
            assert expected in text, (expected, text)
    assert AuditEntry.objects.filter(action="cash.receipt_view", actor=agent).count() == 2


# --- the journal ---------------------------------------------------------------------------------


def test_the_journal_totals_equal_the_payments_per_agent_and_method(
    frozen, commune_a, in_commune, canteen, agent, manager, family
):
    other = make_family(commune_a, in_commune, canteen.service, children=1)
    pay(commune_a, in_commune, agent, family, canteen.service, 2500, "cash")
    pay(commune_a, in_commune, agent, other, canteen.service, 1000, "cash")
    pay(commune_a, in_commune, agent, family, canteen.service, 3000, "cheque")
    pay(commune_a, in_commune, manager, other, canteen.service, 4550, "transfer")

    body = client_for(agent).get(f"{API}/cash-journal?date={TODAY}").json()
    assert body["totals"] == {"cash": 3500, "cheque": 3000, "transfer": 4550}
    assert body["total_cents"] == 11050 == _counter_total(commune_a)
    assert body["total_cents"] == sum(p["amount_cents"] for p in body["payments"])
    per_agent = {a["agent_name"]: (a["totals"], a["total_cents"]) for a in body["agents"]}
    assert per_agent == {
        "Agnès Guichet": ({"cash": 3500, "cheque": 3000, "transfer": 0}, 6500),
        "Marc Régisseur": ({"cash": 0, "cheque": 0, "transfer": 4550}, 4550),
    }
    assert [p["receipt_number"] for p in body["payments"]] == [
        f"R-2026-00000{i}" for i in range(1, 5)
    ]

    page = page_client(agent).get(JOURNAL).content.decode()
    assert "110,50\u00a0€" in page and "65,00\u00a0€" in page and "45,50\u00a0€" in page
    assert "R-2026-000004" in page
    # Another day has nothing.
    assert client_for(agent).get(f"{API}/cash-journal?date=2026-12-02").json()["count"] == 0
    assert AuditEntry.objects.filter(action="cash.journal_view").count() == 3


@pytest.mark.parametrize("bad", ["", "hier", "2026-13-01", "1900-01-01"])
def test_a_bad_journal_date_is_a_french_400(frozen, commune_a, agent, bad):
    response = client_for(agent).get(f"{API}/cash-journal?date={bad}")
    assert response.status_code == 400
    assert "date" in response.json()["error"]["fields"]


def test_a_bad_journal_date_on_the_page_shows_today_with_an_error(frozen, commune_a, agent):
    page = page_client(agent).get(f"{JOURNAL}?jour=demain").content.decode()
    assert "Date attendue au format AAAA-MM-JJ." in page
    assert "jeudi 3 décembre 2026" in page


# --- closing a day -------------------------------------------------------------------------------


def test_an_agent_closing_their_day_freezes_it_and_refuses_later_payments(
    frozen, commune_a, in_commune, canteen, agent, manager, family
):
    pay(commune_a, in_commune, agent, family, canteen.service, 2500, "cash")
    pay(commune_a, in_commune, agent, family, canteen.service, 1200, "cheque")
    client = page_client(agent)
    response = client.post(f"{JOURNAL}cloture/", {"jour": TODAY, "agent": agent.pk}, follow=True)
    page = response.content.decode()
    assert "Journée du 03/12/2026 clôturée (Agnès Guichet) : 2 versements, 37,00\u00a0€." in page
    assert "Votre caisse de ce jour est clôturée" in page
    with in_commune(commune_a):
        closing = DayClosing.objects.get()
    assert (closing.agent_id, closing.total_cents, closing.payments_count) == (agent.pk, 3700, 2)
    assert closing.totals == {"cash": 2500, "cheque": 1200, "transfer": 0}
    audit = AuditEntry.objects.get(action="cash.day_closed")
    assert (audit.actor_id, audit.target_id, audit.details["total_cents"]) == (
        agent.pk,
        TODAY,
        3700,
    )

    # A payment after closing is refused, in French, and changes nothing.
    ledger_before = LedgerTransaction.objects.count()
    with pytest.raises(DayClosed, match="clôturée"):
        pay(commune_a, in_commune, agent, family, canteen.service, 999)
    refused = client.post(
        COUNTER,
        {
            "family_id": family.family.pk,
            "service_id": canteen.service.pk,
            "amount": "9,99",
            "method": "cash",
            "reference": "après clôture",
        },
    )
    assert "La journée du 03/12/2026 de votre caisse est clôturée" in refused.content.decode()
    assert "Votre caisse du jour est clôturée" in client.get(COUNTER).content.decode()
    api_refused = client_for(agent).post(
        f"{API}/wallet-credits",
        {
            "family_id": family.family.pk,
            "service_id": canteen.service.pk,
            "amount_cents": 999,
            "method": "cash",
            "reference": "après clôture",
        },
    )
    assert api_refused.status_code == 409
    assert api_refused.json()["error"]["code"] == "day_closed"
    assert LedgerTransaction.objects.count() == ledger_before
    assert _balance(family) == 3700
    with in_commune(commune_a):
        assert Receipt.objects.count() == 2
        assert ReceiptCounter.objects.get().last_number == 2

    # The other members still take payments until the whole régie is closed.
    assert pay(commune_a, in_commune, manager, family, canteen.service, 500).created
    closed = client_for(manager).post(f"{API}/cash-closings", {"date": TODAY, "agent_id": None})
    assert closed.status_code == 201, closed.json()
    assert closed.json()["total_cents"] == 4200
    with pytest.raises(DayClosed, match="de la régie est clôturée"):
        pay(commune_a, in_commune, manager, family, canteen.service, 500)
    journal = client_for(agent).get(f"{API}/cash-journal?date={TODAY}").json()
    assert journal["closed"] and journal["day_closing"]["total_cents"] == 4200


def test_closing_rights_agents_close_their_own_managers_any_or_all(
    frozen, commune_a, in_commune, canteen, agent, manager, family
):
    colleague = staff(commune_a)
    pay(commune_a, in_commune, colleague, family, canteen.service, 800)
    agent_api = client_for(agent)
    for agent_id in (colleague.pk, None):
        refused = agent_api.post(f"{API}/cash-closings", {"date": TODAY, "agent_id": agent_id})
        assert refused.status_code == 403, refused.json()
    page = page_client(agent).post(
        f"{JOURNAL}cloture/", {"jour": TODAY, "agent": "tous"}, follow=True
    )
    assert "revient à un responsable" in page.content.decode()
    with in_commune(commune_a):
        assert not DayClosing.objects.exists()

    assert (
        client_for(manager)
        .post(f"{API}/cash-closings", {"date": TODAY, "agent_id": colleague.pk})
        .json()["total_cents"]
        == 800
    )
    again = client_for(manager).post(
        f"{API}/cash-closings", {"date": TODAY, "agent_id": colleague.pk}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_closed"
    future = agent_api.post(f"{API}/cash-closings", {"date": "2026-12-04", "agent_id": agent.pk})
    assert future.status_code == 400
    stranger = client_for(manager).post(
        f"{API}/cash-closings", {"date": TODAY, "agent_id": family.pk}
    )
    assert stranger.status_code == 404
    # The journal page shows the frozen closing to everyone.
    page = page_client(agent).get(JOURNAL).content.decode()
    assert "Clôturée" in page and "8,00\u00a0€ figés" in page


def test_a_past_day_can_be_closed_by_its_agent(frozen, commune_a, agent):
    response = client_for(agent).post(
        f"{API}/cash-closings", {"date": "2026-12-01", "agent_id": agent.pk}
    )
    assert response.status_code == 201
    assert response.json()["payments_count"] == 0


# --- rights and isolation ------------------------------------------------------------------------


def test_parents_anonymous_and_staff_of_b_are_refused(
    frozen, commune_a, commune_b, in_commune, canteen, agent, family
):
    receipt = pay(commune_a, in_commune, agent, family, canteen.service, 2500).receipt
    staff_b = staff(commune_b, Role.MANAGER)
    pages = [
        JOURNAL,
        f"{JOURNAL}recus/{receipt.pk}/",
        f"{JOURNAL}exports/?du=2026-12-01&au=2026-12-31&format=xlsx",
    ]
    for url in pages:
        assert page_client(staff_b).get(url).status_code == 403
        assert page_client(family).get(url).status_code == 403
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "next=" in anonymous["Location"]
    for url in (f"{API}/cash-journal?date={TODAY}", f"{API}/receipts/{receipt.pk}"):
        assert client_for(staff_b).get(url).status_code == 403
        assert client_for(family).get(url).status_code == 403
        assert APIClient().get(url).status_code == 401


def test_a_receipt_of_another_commune_is_a_404(
    frozen, commune_a, commune_b, in_commune, canteen, agent, family
):
    with in_commune(commune_b):
        from tenant_apps.catalog.models import Service, ServiceKind
        from tenant_apps.enrollments.models import AccessRequest

        service_b = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine B")
        AccessRequest.objects.create(
            service=service_b, family_id=family.family.pk, submitted_by=family
        )
    agent_b = staff(commune_b)
    for _ in range(2):
        pay(commune_b, in_commune, agent_b, family, service_b, 700)
    pay(commune_a, in_commune, agent, family, canteen.service, 2500)
    with in_commune(commune_b):
        id_in_b_only = Receipt.objects.order_by("pk").last().pk
    with in_commune(commune_a):
        assert not Receipt.objects.filter(pk=id_in_b_only).exists()
    assert page_client(agent).get(f"{JOURNAL}recus/{id_in_b_only}/").status_code == 404
    assert client_for(agent).get(f"{API}/receipts/{id_in_b_only}").status_code == 404
    # B's journal is not A's: each commune numbers its own receipts from 1.
    body = client_for(agent).get(f"{API}/cash-journal?date={TODAY}").json()
    assert [p["receipt_number"] for p in body["payments"]] == ["R-2026-000001"]


def test_exports_are_for_managers_only(frozen, commune_a, agent, manager):
    url = f"{JOURNAL}exports/?du=2026-12-01&au=2026-12-31"
    assert page_client(agent).get(url).status_code == 403
    assert page_client(manager).get(url).status_code == 200


# --- query counts --------------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_journal_costs_the_same_queries_for_3_or_30_payments(
    frozen, commune_a, in_commune, canteen, agent, manager, family
):
    agents = [agent, manager, staff(commune_a)]
    for i in range(3):
        pay(commune_a, in_commune, agents[i % 3], family, canteen.service, 100 + i)
    page, api = page_client(manager), client_for(manager)
    page.get(JOURNAL), api.get(f"{API}/cash-journal?date={TODAY}")  # warm caches
    small_page = _queries(lambda: page.get(JOURNAL))
    small_api = _queries(lambda: api.get(f"{API}/cash-journal?date={TODAY}"))
    for i in range(27):
        pay(commune_a, in_commune, agents[i % 3], family, canteen.service, 200 + i)
    with in_commune(commune_a):
        services.close_day(
            commune=commune_a,
            closed_by=manager,
            is_manager=True,
            day=timezone.localdate(),
            agent_id=agent.pk,
        )
    big_page = _queries(lambda: page.get(JOURNAL))
    big_api = _queries(lambda: api.get(f"{API}/cash-journal?date={TODAY}"))
    # Measured: 7 for the page (session, user, membership, commune checks, receipts, closings,
    # audit) and 6 for the API, whatever the number of payments.
    assert big_page == small_page <= 8, (small_page, big_page)
    assert big_api == small_api <= 7, (small_api, big_api)


def test_the_counter_page_sits_in_the_regie_of_the_menu(frozen, commune_a, agent):
    html = page_client(agent).get(COUNTER).content.decode()
    menu = html[html.index('aria-label="Gestion de Commune A"') :]
    menu = menu[: menu.index("</nav>")]
    assert 'href="/c/commune-a/gestion/regie/" aria-current="true">Régie</a>' in menu
