"""Booking pages (guide steps 4–5): menu → product → children and days → cart → pay;
"Mes réservations" (here and in every commune) with the red cross; booking on a family's
behalf. Each page calls one use case with `request.tenant` (the kitchen lists are in
tenant_apps/backoffice/views/headcounts.py)."""

from __future__ import annotations

import calendar as pycalendar
import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from shared_apps.common.errors import DomainError, NotFound
from shared_apps.common.links import absolute_url
from shared_apps.common.money import format_euros
from shared_apps.families.selectors import (
    calendar_feed_urls,
    family_id_of,
    family_of_calendar_feed,
)
from shared_apps.families.services import calendar_feed_token
from shared_apps.payments.services import card_payments_available
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings import calendar_feed as feed
from tenant_apps.bookings import rules, selectors
from tenant_apps.bookings.forms import PatternForm
from tenant_apps.bookings.models import (
    PaymentChoice,
    ReservationStatus,
)
from tenant_apps.bookings.payment_methods import available_payment_methods
from tenant_apps.bookings.services.cancellation import cancel_reservation
from tenant_apps.bookings.services.cart import (
    add_days_to_cart,
    add_weekly_rhythm_to_cart,
    remove_cart_item,
)
from tenant_apps.bookings.services.checkout import checkout as checkout_cart
from tenant_apps.bookings.wording import refund_sentence, why_not_cancellable
from tenant_apps.catalog.models import Product, Service
from tenant_apps.enrollments.models import Enrollment
from tenant_apps.enrollments.selectors import parent_state_label, requests_in_progress
from tenants.calendar import commune_calendar
from tenants.urls import commune_reverse

MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def _url(request, name, *args) -> str:
    return commune_reverse(request.tenant, name, args=args)


@login_required
def menu(request: HttpRequest) -> HttpResponse:
    """The commune's services the family's children are enrolled in, with their products."""
    enrolled = set(
        Enrollment.objects.filter(family_id=family_id_of(request.user)).values_list(
            "service_id", flat=True
        )
    )
    services_ = Service.objects.filter(is_active=True).prefetch_related("products").order_by("name")
    return render(
        request,
        "bookings/menu.html",
        {
            "services": [s for s in services_ if s.pk in enrolled],
            "others": [s for s in services_ if s.pk not in enrolled],
        },
    )


# Pages only move within a few years of today: beyond, dates are typos (or probes).
YEARS_AROUND = 5


def _month_param(raw: str | None, today: datetime.date) -> datetime.date:
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        if abs(year - today.year) > YEARS_AROUND:
            raise ValueError
        return datetime.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


# Without ?mois, the calendar opens on the first month (this one or up to 3 ahead) with a day
# still bookable: late in a month, or before the holidays, the current month is all "Passé".
LOOK_AHEAD_MONTHS = 3


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _month_states(request, product, children, month: datetime.date) -> dict[int, dict]:
    """Each child's calendar for the month: {child id: {date: CalendarDay}}."""
    last = month.replace(day=pycalendar.monthrange(month.year, month.month)[1])
    return {
        child.pk: {
            d.date: d
            for d in selectors.calendar(
                commune=request.tenant,
                user=request.user,
                product=product,
                child_id=child.pk,
                start=month,
                end=last,
            )
        }
        for child in children
    }


def _has_bookable(per_child: dict[int, dict]) -> bool:
    return any(day.status == "bookable" for days in per_child.values() for day in days.values())


def _day_cell(day: datetime.date, children, per_child, today: datetime.date) -> dict:
    """One day of the calendar, for all the chosen children at once."""
    states = {c.pk: per_child[c.pk][day] for c in children}
    bookable_for = [c.first_name for c in children if states[c.pk].status == "bookable"]
    booked = [c.first_name for c in children if states[c.pk].status == "booked"]
    in_cart = [c.first_name for c in children if states[c.pk].status == "in_cart"]
    if bookable_for and (booked or in_cart):
        status = "partial"  # "Réservé : Léa — cocher pour Hugo"
    elif bookable_for:
        status = "bookable"
    elif booked:
        status = "booked"
    elif in_cart:
        status = "in_cart"
    elif day < today:
        status = "past"
    else:
        status = next(iter(states.values())).status if states else "closed"
    reasons = [states[c.pk].reason for c in children if states[c.pk].reason]
    return {
        "date": day,
        "bookable": bool(bookable_for),
        "bookable_for": bookable_for,
        "booked": booked,
        "in_cart": in_cart,
        "status": status,
        "reason": reasons[0] if status == "closed" and reasons else "",
    }


@login_required
def product_page(request: HttpRequest, product_id: int) -> HttpResponse:
    product = (
        Product.objects.filter(pk=product_id, is_active=True).select_related("service").first()
    )
    if product is None:
        raise Http404
    children = selectors.enrolled_children(request.user, product.service_id)
    today = timezone.localdate()
    asked = request.GET.get("mois")
    month = _month_param(asked, today)
    per_child = _month_states(request, product, children, month)
    if not asked and children and not _has_bookable(per_child):
        candidate = month
        for _ in range(LOOK_AHEAD_MONTHS):
            candidate = _next_month(candidate)
            states = _month_states(request, product, children, candidate)
            if _has_bookable(states):
                month, per_child = candidate, states
                break
    first = month
    last = month.replace(day=pycalendar.monthrange(month.year, month.month)[1])
    weeks = []
    for week in pycalendar.Calendar().monthdatescalendar(month.year, month.month):
        in_month = [day for day in week[:5] if day.month == month.month]  # Monday to Friday
        if not in_month:
            continue  # a week whose weekdays all belong to the next or previous month
        days = [
            _day_cell(day, children, per_child, today) if day.month == month.month else None
            for day in week[:5]
        ]
        weeks.append(
            {
                "days": days,
                "first": in_month[0],
                "selectable": any(d and d["bookable"] for d in days),
            }
        )
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = last + datetime.timedelta(days=1)
    full, sibling = selectors.day_prices(commune=request.tenant, user=request.user, product=product)
    return render(
        request,
        "bookings/product.html",
        {
            "product": product,
            "children": children,
            "weeks": weeks,
            "month_label": f"{MONTHS[month.month - 1]} {month.year}",
            "previous": previous.strftime("%Y-%m") if previous >= today.replace(day=1) else None,
            "following": following.strftime("%Y-%m"),
            "pattern_form": PatternForm(
                initial={"start": max(today, first), "end": last, "weekdays": product.weekdays},
                auto_id="rythme_%s",
            ),
            "booking_rule": rules.DeadlineRule.for_booking(product).describe(),
            "cancel_rule": rules.DeadlineRule.for_cancellation(product).describe(),
            "price": format_euros(full),
            "sibling_price": format_euros(sibling) if sibling != full and len(children) > 1 else "",
        },
    )


@login_required
@require_POST
def add_days(request: HttpRequest, product_id: int) -> HttpResponse:
    """ "Ajouter au panier" from the calendar (chosen days) or from a weekly rhythm."""
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise Http404  # another commune's product (or none) is not a page with an error message
    product_url = _url(request, "bookings-product", product_id)
    child_ids = request.POST.getlist("children")
    variant_id = request.POST.get("variant") or None
    try:
        if request.POST.get("mode") == "pattern":
            form = PatternForm(request.POST)
            if not form.is_valid():
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
                return redirect(product_url)
            items, skipped = add_weekly_rhythm_to_cart(
                commune=request.tenant,
                user=request.user,
                product_id=product_id,
                child_ids=child_ids,
                variant_id=variant_id,
                **form.cleaned_data,
            )
            note = " jour(s) fermé(s), hors délai ou déjà réservé(s) ignoré(s)"
        else:
            items, skipped = add_days_to_cart(
                commune=request.tenant,
                user=request.user,
                product_id=product_id,
                child_ids=child_ids,
                dates=request.POST.getlist("dates"),
                variant_id=variant_id,
            )
            note = " jour(s) déjà réservé(s) pour un enfant ignoré(s)"
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(product_url)
    suffix = f" ({skipped}{note})" if skipped else ""
    messages.success(request, f"{len(items)} réservation(s) ajoutée(s) au panier{suffix}.")
    return redirect(_url(request, "bookings-cart"))


@login_required
def cart(request: HttpRequest) -> HttpResponse:
    cart_, items = selectors.cart_of(request.user)
    methods = available_payment_methods(
        family_id_of(request.user), selectors.services_of_items(items)
    )
    choices = [(value, PaymentChoice(value).label) for value in methods]
    cover = None
    if PaymentChoice.WALLET in methods:
        cover = selectors.wallet_cover_of_cart(
            commune=request.tenant, user=request.user, items=items
        )
    return render(
        request,
        "bookings/cart.html",
        {
            "items": items,
            "total_cents": sum(i.price_cents for i in items),
            "expires_at": cart_.expires_at if items else None,
            "payment_choices": choices,
            # Shown only when the wallet falls short: the balance, what is missing, the ways out.
            "wallet_short": cover if cover and cover.missing_cents else None,
            "card_available": PaymentChoice.CARD in methods,
            "card_top_up": card_payments_available(),
        },
    )


@login_required
@require_POST
def remove_item(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        remove_cart_item(commune=request.tenant, user=request.user, item_id=item_id)
    except NotFound:
        raise Http404 from None  # another family's or commune's item: as one that never was
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_url(request, "bookings-cart"))


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    try:
        result = checkout_cart(
            commune=request.tenant,
            user=request.user,
            payment_method=request.POST.get("payment_method", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_url(request, "bookings-cart"))
    order = result.order
    if result.payment is not None:
        return redirect(_url(request, "bookings-card-pay", order.pk))
    if order.status == "to_invoice":
        messages.success(
            request,
            f"Réservations enregistrées : {format_euros(order.amount_cents)} seront prélevés "
            "avec la facture du mois.",
        )
    else:
        messages.success(
            request,
            f"Réservations payées : {format_euros(order.amount_cents)} débités de votre "
            "porte-monnaie.",
        )
    return redirect(_url(request, "bookings-mine"))


@login_required
def my_reservations(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    reservations = selectors.with_cancellation_terms(
        selectors.reservations_of_family(request.user), commune=request.tenant
    )
    upcoming = [
        r for r in reservations if r.date >= today and r.status != ReservationStatus.CANCELLED
    ]
    past = [r for r in reservations if r.date < today or r.status == ReservationStatus.CANCELLED]
    return render(request, "bookings/mine.html", {"upcoming": upcoming, "past": past[-60:][::-1]})


@login_required
def cancel(request: HttpRequest, reservation_id: int) -> HttpResponse:
    """The red cross: a confirmation that states the refund, then "OK"."""
    reservation = next(
        iter(
            selectors.with_cancellation_terms(
                selectors.reservations_of_family(request.user).filter(pk=reservation_id),
                commune=request.tenant,
            )
        ),
        None,
    )
    if reservation is None:
        raise Http404
    if request.method == "POST":
        try:
            result = cancel_reservation(
                commune=request.tenant, user=request.user, reservation_id=reservation.pk
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            sentence = refund_sentence(
                result.reservation, result.refund_cents, done=True, split=result.split
            )
            messages.success(request, f"Réservation annulée. {sentence}")
        return redirect(_url(request, "bookings-mine"))
    refund = reservation.refund_if_cancelled_cents
    return render(
        request,
        "bookings/cancel.html",
        {
            "reservation": reservation,
            "refusal": why_not_cancellable(reservation, calendar=commune_calendar(request.tenant)),
            "in_time": reservation.cancel_in_time,
            "refund_sentence": refund_sentence(
                reservation, refund, split=reservation.refund_split_if_cancelled
            )
            if refund is not None
            else "",
        },
    )


def _own_order(request, order_id):
    from tenant_apps.bookings.models import Order

    order = Order.objects.filter(pk=order_id, family_id=family_id_of(request.user)).first()
    if order is None:
        raise Http404
    return order


@login_required
def card_pay(request: HttpRequest, order_id: int) -> HttpResponse:
    """The card, in the provider's Card Element; the order is paid when the webhook says so."""
    from shared_apps.payments.models import Payment
    from shared_apps.payments.services import client_config

    order = _own_order(request, order_id)
    payment = Payment.objects.filter(pk=order.payment_id, family_id=order.family_id).first()
    config = client_config(payment) if payment else None
    status_url = _url(request, "bookings-order", order.pk)
    if config is None or order.status != "awaiting_payment":
        return redirect(status_url)
    return render(
        request,
        "bookings/card_pay.html",
        {"order": order, "config": config, "return_url": absolute_url(status_url)},
    )


@login_required
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    """Where the card page sends the parent back: the order as our database knows it."""
    from shared_apps.payments.models import Payment

    order = _own_order(request, order_id)
    payment = Payment.objects.filter(pk=order.payment_id).first() if order.payment_id else None
    return render(request, "bookings/order_status.html", {"order": order, "payment": payment})


@login_required
def everywhere(request: HttpRequest) -> HttpResponse:
    """ "Mes réservations" across every commune of the family (public URL, no commune)."""
    today = timezone.localdate()
    groups = [
        (commune, [r for r in reservations if r.status == "booked"])
        for commune, reservations in selectors.reservations_everywhere(request.user, since=today)
    ]
    # The feed is offered once the family deals with a commune (its secret is made then).
    feed_urls = calendar_feed_urls(calendar_feed_token(user=request.user)) if groups else None
    return render(request, "bookings/everywhere.html", {"groups": groups, "feed": feed_urls})


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The family's bookings in every commune, as an iCalendar feed. No login: calendar
    applications fetch it alone, the secret in the address is the credential. An unknown or
    replaced secret is the same 404 as any address that does not exist."""
    family = family_of_calendar_feed(token)
    if family is None:
        raise Http404
    since = timezone.localdate() - datetime.timedelta(days=feed.PAST_DAYS_SHOWN)
    groups = selectors.live_reservations_of_family_everywhere(family.pk, since=since)
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "marelle"
    response = HttpResponse(
        feed.family_calendar(groups, host=host), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="reservations.ics"'
    # Only the family's own applications keep it; no shared cache, no search engine.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
def parent_home(request: HttpRequest) -> HttpResponse:
    """ "Mon espace", where a parent lands after signing in: the next bookings, the wallet, the
    access requests still in progress and the next booking deadlines, every commune."""
    pockets = pockets_of(family_id_of(request.user))
    requests = [
        (commune, access_request, parent_state_label(access_request.status))
        for commune, access_request in requests_in_progress(request.user)
    ]
    return render(
        request,
        "bookings/parent_home.html",
        {
            "next_reservations": selectors.next_reservations(request.user, limit=5),
            "total_cents": sum(p.balance_cents for p in pockets),
            "requests": requests,
            "deadlines": selectors.next_booking_deadlines(request.user),
        },
    )
