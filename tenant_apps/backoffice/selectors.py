"""What staff may see of families: only those that asked this commune for a service, and of
them only the children named in those requests (ARCHITECTURE.md, RGPD)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from shared_apps.accounts.models import User
from shared_apps.common.validation import parse_id
from shared_apps.families.models import Child, Family, Guardian
from shared_apps.families.selectors import standing_booking_consent
from shared_apps.wallet.models import POCKET_KINDS, Account, AccountKind, Posting
from shared_apps.wallet.selectors import GENERAL_LABEL
from shared_apps.wallet.services import general_credit_allowed
from tenant_apps.bookings.models import Order, Reservation, ReservationStatus
from tenant_apps.catalog.models import Service
from tenant_apps.enrollments.models import AccessRequest, AccessRequestChild, Document, Enrollment

if TYPE_CHECKING:
    from tenants.models import Commune


def known_families() -> list[tuple[int, str]]:
    """(family_id, "Name (e-mail)") of the families that sent this commune a request."""
    firsts = (
        AccessRequest.objects.values("family_id").annotate(first_pk=Min("pk")).order_by("family_id")
    )
    submitters = dict(
        AccessRequest.objects.filter(pk__in=[row["first_pk"] for row in firsts]).values_list(
            "family_id", "submitted_by_id"
        )
    )
    users = User.objects.in_bulk(list(submitters.values()))
    rows = [
        (family_id, f"{users[uid].get_full_name()} ({users[uid].email})")
        for family_id, uid in submitters.items()
        if uid in users
    ]
    return sorted(rows, key=lambda row: row[1].lower())


def family_is_known(family_id: int) -> bool:
    """Whether the family sent this commune a request (staff may then see its file)."""
    return AccessRequest.objects.filter(family_id=family_id).exists()


# --- The family file ("fiche famille") ---------------------------------------------------------

SEARCH_PAGE_SIZE = 25
MAX_SEARCH_LENGTH = 100
MAX_SEARCH_TERMS = 5
FILE_ROWS = 20  # bookings, attendance and wallet movements shown on the family page, each


def search_terms(q: str | None) -> list[str]:
    """The words of a search ("Martin Léa", "martin@exemple.fr"): at most MAX_SEARCH_TERMS
    words of the first MAX_SEARCH_LENGTH characters."""
    return (q or "")[:MAX_SEARCH_LENGTH].split()[:MAX_SEARCH_TERMS]


def named_children_ids() -> QuerySet:
    """Ids of the children named in this commune's requests (a subquery)."""
    return AccessRequestChild.objects.values("child_id")


def search_families(q: str | None) -> QuerySet[Family]:
    """The families known here (they sent this commune a request) matching every word of `q`
    in a guardian's first name, last name or e-mail, or in the name of a child NAMED in this
    commune's requests (another child of the family is never searched: its existence is none
    of this commune's business). Empty `q`: every known family. Sorted by the first guardian's
    last name. One query (plus the paginator's count)."""
    families = Family.objects.filter(pk__in=AccessRequest.objects.values("family_id"))
    for term in search_terms(q):
        guardian = Guardian.objects.filter(family=OuterRef("pk")).filter(
            Q(user__first_name__icontains=term)
            | Q(user__last_name__icontains=term)
            | Q(user__email__icontains=term)
        )
        child = Child.objects.filter(family=OuterRef("pk"), pk__in=named_children_ids()).filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term)
        )
        families = families.filter(Exists(guardian) | Exists(child))
    first_guardian = Guardian.objects.filter(family=OuterRef("pk")).order_by("joined_at", "pk")
    return families.annotate(
        sort_last=Lower(Subquery(first_guardian.values("user__last_name")[:1])),
        sort_first=Lower(Subquery(first_guardian.values("user__first_name")[:1])),
    ).order_by(F("sort_last").asc(nulls_last=True), "sort_first", "pk")


@dataclass
class FamilyRow:
    family_id: int
    guardians: list[Guardian]
    children: list[Child]
    requests: list[AccessRequest]


def family_rows(family_ids: list[int]) -> list[FamilyRow]:
    """For a page of search results: each family's guardians, children named here and
    requests here. Three queries whatever the number of families."""
    guardians: dict[int, list[Guardian]] = defaultdict(list)
    for guardian in (
        Guardian.objects.filter(family_id__in=family_ids)
        .select_related("user")
        .order_by("joined_at", "pk")
    ):
        guardians[guardian.family_id].append(guardian)
    requests: dict[int, list[AccessRequest]] = defaultdict(list)
    for access_request in (
        AccessRequest.objects.filter(family_id__in=family_ids)
        .select_related("service")
        .order_by("-created_at", "-pk")
    ):
        requests[access_request.family_id].append(access_request)
    children = _named_children(family_ids)
    return [
        FamilyRow(family_id, guardians[family_id], children[family_id], requests[family_id])
        for family_id in family_ids
    ]


def _named_children(family_ids: list[int]) -> dict[int, list[Child]]:
    """{family_id: [child, …]}: the children named in this commune's requests of each family
    that are still that family's (one query)."""
    found: dict[int, dict[int, Child]] = defaultdict(dict)
    rows = AccessRequestChild.objects.filter(
        access_request__family_id__in=family_ids
    ).select_related("child", "access_request")
    for row in rows:
        child = row.child
        if child is not None and child.family_id == row.access_request.family_id:
            found[child.family_id][child.pk] = child
    return {
        family_id: sorted(
            children.values(), key=lambda c: (c.first_name.lower(), c.last_name.lower(), c.pk)
        )
        for family_id, children in found.items()
    } | {family_id: [] for family_id in family_ids if family_id not in found}


@dataclass(frozen=True)
class Pocket:
    label: str
    balance_cents: int
    general: bool


@dataclass
class FamilyFile:
    family_id: int
    guardians: list[Guardian]
    children: list[Child]
    requests: list[AccessRequest]
    documents: list[Document]
    upcoming: list[Reservation]
    past: list[Reservation]
    attendance_counts: dict[str, int]
    attendance: list[Reservation]
    pockets: list[Pocket]
    movements: list[Posting]
    enrolled: dict[int, list[Service]]  # child_id -> services the child is enrolled in here
    consent_at: datetime.datetime | None
    consent_notes: list[Order] = field(default_factory=list)
    bookers: dict[int, User] = field(default_factory=dict)

    @property
    def available_cents(self) -> int:
        return sum(p.balance_cents for p in self.pockets)


def family_file(family_id: int, *, commune: Commune, today: datetime.date) -> FamilyFile | None:
    """What this commune's staff may see of a family, or None if the family is not known here
    (never sent this commune a request): guardians (name, e-mail, phone); the children named in
    this commune's requests only; requests and current documents; bookings here (upcoming and
    recent, FILE_ROWS each, with who booked); attendance (counts and the last FILE_ROWS marked);
    the wallet pockets usable here (this commune's services' pockets, plus "tous services" if
    the commune accepts general credit) and their movements for this commune's services only;
    the standing consent for booking on the family's behalf and the last notes of consent
    recorded by agents. A constant number of queries (about fifteen) whatever the rows."""
    if parse_id(family_id) is None or not family_is_known(family_id):
        return None
    guardians = list(
        Guardian.objects.filter(family_id=family_id)
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    requests = list(
        AccessRequest.objects.filter(family_id=family_id)
        .select_related("service")
        .prefetch_related("request_children")
        .order_by("-created_at", "-pk")
    )
    children = _named_children([family_id])[family_id]
    named = {c.pk: c for c in children}
    for access_request in requests:
        access_request.named_children = [  # type: ignore[attr-defined]
            named[row.child_id]
            for row in access_request.request_children.all()
            if row.child_id in named
        ]
    documents = list(
        Document.objects.filter(access_request__family_id=family_id, replaced_at__isnull=True)
        .select_related("document_type", "access_request__service")
        .order_by("access_request__service__name", "document_type__label", "pk")
    )
    reservations = Reservation.objects.filter(family_id=family_id).select_related(
        "product", "variant", "order", "child"
    )
    upcoming = list(
        reservations.filter(date__gte=today).order_by("date", "child_id", "pk")[:FILE_ROWS]
    )
    past = list(
        reservations.filter(date__lt=today).order_by("-date", "child_id", "-pk")[:FILE_ROWS]
    )
    counts = dict(
        Reservation.objects.filter(
            family_id=family_id,
            status__in=[ReservationStatus.ATTENDED, ReservationStatus.ABSENT],
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    attendance = list(
        reservations.filter(
            status__in=[ReservationStatus.ATTENDED, ReservationStatus.ABSENT]
        ).order_by("-date", "child_id", "-pk")[:FILE_ROWS]
    )
    bookers = User.objects.in_bulk(
        {r.order.placed_by_id for r in (*upcoming, *past, *attendance)} - {None}
    )
    pockets, movements = _wallet_here(family_id, commune)
    enrolled: dict[int, list[Service]] = defaultdict(list)
    for enrollment in (
        Enrollment.objects.filter(family_id=family_id, child_id__in=list(named))
        .select_related("service")
        .order_by("service__name")
    ):
        enrolled[enrollment.child_id].append(enrollment.service)
    consent_notes = list(
        Order.objects.filter(family_id=family_id, on_behalf=True)
        .exclude(consent_note="")
        .order_by("-created_at", "-pk")[:5]
    )
    bookers |= User.objects.in_bulk({o.placed_by_id for o in consent_notes} - set(bookers))
    for order in [r.order for r in (*upcoming, *past, *attendance)] + consent_notes:
        booker = bookers.get(order.placed_by_id)
        order.booker_name = booker.get_full_name() if booker else ""  # type: ignore[attr-defined]
    return FamilyFile(
        family_id=family_id,
        guardians=guardians,
        children=children,
        requests=requests,
        documents=documents,
        upcoming=upcoming,
        past=past,
        attendance_counts={
            "attended": counts.get(ReservationStatus.ATTENDED, 0),
            "absent": counts.get(ReservationStatus.ABSENT, 0),
        },
        attendance=attendance,
        pockets=pockets,
        movements=movements,
        enrolled=dict(enrolled),
        consent_at=standing_booking_consent(family_id, commune.pk),
        consent_notes=consent_notes,
        bookers=bookers,
    )


def _wallet_here(family_id: int, commune: Commune) -> tuple[list[Pocket], list[Posting]]:
    """The family's pockets usable in this commune (its services' pockets, and "tous services"
    if the commune accepts general credit), and the last FILE_ROWS movements of its pockets
    made for this commune (a payment, refund or counter credit here; never what it did in
    another commune, nor its top-ups of "tous services"). Three queries."""
    general_allowed = general_credit_allowed(commune)
    scope = Q(kind=AccountKind.SERVICE_POCKET, commune=commune)
    if general_allowed:
        scope |= Q(kind=AccountKind.GENERAL_POCKET)
    accounts = list(
        Account.objects.filter(scope, wallet__family_id=family_id).order_by("kind", "service_id")
    )
    names = dict(Service.objects.values_list("pk", "name"))
    pockets = [
        Pocket(
            label=GENERAL_LABEL
            if account.kind == AccountKind.GENERAL_POCKET
            else names.get(account.service_id or 0, "Service supprimé"),
            balance_cents=account.balance_cents,
            general=account.kind == AccountKind.GENERAL_POCKET,
        )
        for account in accounts
    ]
    if general_allowed and not any(p.general for p in pockets):
        pockets.append(Pocket(GENERAL_LABEL, 0, True))
    pockets.sort(key=lambda p: (p.general, p.label.lower()))
    movements = list(
        Posting.objects.filter(
            account__wallet__family_id=family_id,
            account__kind__in=POCKET_KINDS,
            transaction__commune=commune,
        )
        .select_related("transaction", "account")
        .order_by("-transaction__created_at", "-pk")[:FILE_ROWS]
    )
    for posting in movements:
        account = posting.account
        posting.pocket_label = (  # type: ignore[attr-defined]
            GENERAL_LABEL
            if account.kind == AccountKind.GENERAL_POCKET
            else names.get(account.service_id or 0, "Service supprimé")
        )
    return pockets, movements
