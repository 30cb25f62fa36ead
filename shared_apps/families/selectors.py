"""Reads of a family, always from the point of view of one guardian."""

from __future__ import annotations

import datetime
import hmac
import re

from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse

from shared_apps.accounts.models import User
from shared_apps.common.links import absolute_url
from shared_apps.common.validation import parse_id
from shared_apps.families.models import Child, ChildRelation, Family, Guardian


def family_of(user: User) -> Family | None:
    guardian = Guardian.objects.select_related("family").filter(user=user).first()
    return guardian.family if guardian else None


def family_id_of(user: User) -> int | None:
    return Guardian.objects.filter(user=user).values_list("family_id", flat=True).first()


def children_of(user: User) -> QuerySet[Child]:
    """The user's family's current children, each with `relation`: who the user is to them."""
    return Child.objects.filter(family__guardians__user=user, removed_at__isnull=True).annotate(
        relation=Subquery(
            ChildRelation.objects.filter(child=OuterRef("pk"), user=user).values("relation")[:1]
        )
    )


def child_of(user: User, child_id: int) -> Child | None:
    """One of the user's children, or None — another family's child is simply not found."""
    if parse_id(child_id) is None:
        return None
    return children_of(user).filter(pk=child_id).first()


def guardians_of(family: Family) -> QuerySet[Guardian]:
    return family.guardians.select_related("user").order_by("joined_at")


def communes_of_family(family_id: int | None) -> list:
    from tenants.models import Commune

    if family_id is None:
        return []
    return list(
        Commune.objects.filter(family_links__family_id=family_id, is_active=True).order_by("name")
    )


# What services.calendar_feed_token makes: anything else is refused without a query.
CALENDAR_FEED_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")


def family_of_calendar_feed(token: str) -> Family | None:
    """The family whose calendar feed secret is `token`; None for an unknown or replaced one
    (callers answer both with the same 404)."""
    if not CALENDAR_FEED_TOKEN_RE.fullmatch(token or ""):
        return None
    family = Family.objects.filter(calendar_feed_token=token).first()
    # The index found the row; the comparison that decides is the constant-time one.
    if family is None or not hmac.compare_digest(family.calendar_feed_token or "", token):
        return None
    return family


def calendar_feed_urls(token: str) -> dict[str, str]:
    """The feed's address for a browser (https) and for calendar applications (webcal)."""
    url = absolute_url(reverse("calendar-feed", args=[token]))
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def commune_links_of(family_id: int | None) -> list:
    """The family's FamilyCommune rows (active communes, by name), each with its commune and
    its standing consent for booking on the family's behalf (`booking_consent_at`)."""
    from shared_apps.families.models import FamilyCommune

    if family_id is None:
        return []
    return list(
        FamilyCommune.objects.filter(family_id=family_id, commune__is_active=True)
        .select_related("commune", "booking_consent_by")
        .order_by("commune__name")
    )


def standing_booking_consent(
    family_id: int, commune_id: int, *, lock: bool = False
) -> datetime.datetime | None:
    """When the family's standing consent for this commune was given (datetime), or None.

    `lock`: read the row FOR UPDATE (inside a transaction), so that a guardian withdrawing the
    consent at that moment waits for the booking, or the booking sees the withdrawal."""
    from shared_apps.families.models import FamilyCommune

    rows = FamilyCommune.objects.filter(family_id=family_id, commune_id=commune_id)
    if lock:
        rows = rows.select_for_update()
    return rows.values_list("booking_consent_at", flat=True).first()
