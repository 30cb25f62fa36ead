"""Use case "Pointage": staff mark who came and who did not on a product's day, add a child who
came unbooked, and a medical certificate excuses a sick child's absence. Audited.

What follows a marking is the commune's rule for the product (catalog.Product, "Pointage"):

- present, booked: nothing moves (the day was paid);
- absent: `absence_refund_percent` of what the family paid for the place (`absence_refund_cents`)
  goes back to the service's pocket (wallet or card paid) or off the invoice (direct debit); with
  a medical certificate, `sick_refund_percent` when the rule has one (and it is larger);
- present, unbooked (`added`): refused, or billed at `unbooked_price_cents` (the product's price
  when empty): from the service's pocket when it holds enough, else due on the next invoice (the
  place is written as a direct-debit reservation of an order "to invoice") — the pocket never
  goes negative (database check) and the child has already eaten;
- a correction the same day undoes what the earlier marking moved: absent → present takes the
  refund back from the pocket (due on the next invoice when the pocket no longer holds it),
  present → absent of an unbooked child cancels the place and gives its price back. A marking
  cannot be changed on another day.

Every change is an `AttendanceMark` (who, when, before, after, money), and its id is the ledger
source key of the money it moved (`ledger_keys.attendance`), in the same transaction: a
double tap or a retry finds the state already applied, writes no mark and moves nothing.
Locks follow `locks.py`: the commune's row FOR SHARE (a commune closed meanwhile moves nothing:
CommuneInactive, 409), the day's counter, the day's reservations (id order), their orders,
then the wallet accounts.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from shared_apps.audit.services import record
from shared_apps.common.errors import Conflict
from shared_apps.common.validation import parse_date
from shared_apps.families.selectors import family_id_of
from shared_apps.wallet.errors import InsufficientBalance
from shared_apps.wallet.models import TransactionKind
from shared_apps.wallet.services import (
    lock_refund_accounts,
    post_transaction,
    refund_to_service_pocket,
    revenue_account,
    service_pocket,
    wallet_of_family,
)
from tenant_apps.bookings import ledger_keys, rules
from tenant_apps.bookings.errors import ChildNotFound, InvalidBooking, ReservationNotFound
from tenant_apps.bookings.locks import add_to_day_counts, free_places, lock_counters
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    AttendanceMark,
    MedicalCertificate,
    Order,
    OrderStatus,
    PaymentChoice,
    Reservation,
    ReservationStatus,
)
from tenant_apps.bookings.parsing import as_int
from tenant_apps.bookings.services.checks import active_product
from tenant_apps.catalog.models import DocumentType, Product, UnbookedPresence, all_formats
from tenant_apps.enrollments.models import Enrollment
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune

# A certificate excuses an absence of the last 30 days at most: after that the commune's
# accounts for the month are closed.
CERTIFICATE_WINDOW_DAYS = 30
MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024


class AttendanceRefused(Conflict):
    code = "attendance_refused"
    message = "Ce pointage n’est pas possible."


class CorrectionTooLate(Conflict):
    code = "correction_too_late"
    message = "Un pointage ne se corrige que le jour même."


@dataclass
class AttendanceResult:
    """What a marking changed. Amounts in cents; `added` the reservations of unbooked children."""

    updated: int = 0
    refunded_cents: int = 0  # given back to pockets now
    taken_back_cents: int = 0  # taken back from pockets now (corrections)
    billed_cents: int = 0  # unbooked presences paid from the pocket now
    to_invoice_cents: int = 0  # due on the next invoice (unbooked presences, refunds taken back)
    off_invoice_cents: int = 0  # direct-debit absences not invoiced
    added: list[int] = field(default_factory=list)


def absence_refund_cents(
    *,
    price_cents: int,
    refund_cents: int,
    late_fee_cents: int,
    absence_percent: int,
    sick_percent: int | None,
    has_certificate: bool,
) -> int:
    """What an absence gives back, in cents: the share of what the family paid for the place
    (its price, minus what a settlement already gave back or kept) that the product's rule
    refunds — `absence_percent`, or `sick_percent` with a medical certificate when the rule
    has one and it is larger. Rounded down to the cent (the commune keeps the odd cent).
    Source: the commune's rules page ("Pointage")."""
    held = max(price_cents - refund_cents - late_fee_cents, 0)
    percent = absence_percent
    if has_certificate and sick_percent is not None:
        percent = max(percent, sick_percent)
    return held * percent // 100


def _target_refund(reservation: Reservation, product: Product, has_certificate: bool) -> int:
    """What the reservation's attendance should have given back, given its status now."""
    if reservation.status != ReservationStatus.ABSENT or reservation.added_at_attendance:
        return 0
    if reservation.order.status not in (OrderStatus.PAID, OrderStatus.TO_INVOICE):
        return 0  # a card payment still pending (or failed) has nothing to give back yet
    return absence_refund_cents(
        price_cents=reservation.price_cents,
        refund_cents=reservation.refund_cents,
        late_fee_cents=reservation.late_fee_cents,
        absence_percent=product.absence_refund_percent,
        sick_percent=product.sick_refund_percent,
        has_certificate=has_certificate,
    )


def _moves_money(
    reservation: Reservation, product: Product, after: str, has_certificate: bool
) -> bool:
    """Whether marking `reservation` `after` would move money (before doing it)."""
    if reservation.added_at_attendance:
        return after == ReservationStatus.ABSENT and reservation.price_cents > 0
    status = reservation.status
    reservation.status = after
    try:
        target = _target_refund(reservation, product, has_certificate)
    finally:
        reservation.status = status
    return target != reservation.attendance_refund_cents


def _pays_by_invoice(reservation: Reservation) -> bool:
    return reservation.paid_by == PaymentChoice.DIRECT_DEBIT


def _settle_refund(
    reservation: Reservation,
    mark: AttendanceMark,
    target: int,
    *,
    commune: Commune,
    user: User,
    result: AttendanceResult,
) -> None:
    """Bring the reservation's attendance refund to `target`, moving the difference once
    (source key of `mark`): given back, or taken back from the pocket (due on the next invoice
    when the pocket does not hold it)."""
    delta = target - reservation.attendance_refund_cents
    if not delta:
        return
    reservation.attendance_refund_cents = target
    mark.money_cents = delta
    service_id = reservation.product.service_id
    label = f"{reservation.product.name} du {reservation.date:%d/%m/%Y}"
    if _pays_by_invoice(reservation):
        result.off_invoice_cents += delta
        return
    if delta > 0:
        # A refund taken back earlier and still due is cancelled first.
        cleared = min(reservation.attendance_due_cents, delta)
        reservation.attendance_due_cents -= cleared
        mark.due_cents = -cleared
        result.to_invoice_cents -= cleared
        if delta - cleared:
            refund_to_service_pocket(
                source_key=ledger_keys.attendance(commune, mark.pk),
                family_id=reservation.family_id,
                commune=commune,
                service_id=service_id,
                amount_cents=delta - cleared,
                description=f"Absence remboursée : {label}",
                created_by=user,
            )
            result.refunded_cents += delta - cleared
        return
    wallet = wallet_of_family(reservation.family_id)
    try:
        post_transaction(
            source_key=ledger_keys.attendance(commune, mark.pk),
            kind=TransactionKind.SPEND,
            lines=[
                (service_pocket(wallet, commune, service_id), delta),
                (revenue_account(commune, service_id), -delta),
            ],
            description=f"Présence corrigée, remboursement repris : {label}",
            wallet=wallet,
            commune=commune,
            service_id=service_id,
            created_by=user,
        )
        result.taken_back_cents -= delta
    except InsufficientBalance:
        reservation.attendance_due_cents += -delta
        mark.due_cents = -delta
        result.to_invoice_cents += -delta


def _cancel_unbooked(
    reservation: Reservation,
    *,
    commune: Commune,
    user: User,
    now: datetime.datetime,
    result: AttendanceResult,
) -> int:
    """An unbooked child marked present by mistake: the place is cancelled and its price given
    back (to the pocket, or not invoiced). Returns the cents given back to the pocket."""
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.cancelled_by = user
    total = reservation.price_cents
    given = total - reservation.refund_cents
    reservation.refund_cents = total
    if given <= 0:
        return 0
    if _pays_by_invoice(reservation):
        result.to_invoice_cents -= given
        return 0
    refund_to_service_pocket(
        source_key=ledger_keys.refund(commune, reservation.pk, total),
        family_id=reservation.family_id,
        commune=commune,
        service_id=reservation.product.service_id,
        amount_cents=given,
        description=f"Présence annulée : {reservation.product.name} du {reservation.date:%d/%m/%Y}",
        created_by=user,
    )
    result.refunded_cents += given
    return given


def unbooked_price_cents(product: Product) -> int:
    """The price of an unbooked presence: the rule's, else the product's price (cents)."""
    if product.unbooked_price_cents is not None:
        return product.unbooked_price_cents
    return product.price_cents


def _add_unbooked(
    *,
    commune: Commune,
    staff_user: User,
    product: Product,
    day: datetime.date,
    child_id: int,
    family_id: int,
    now: datetime.datetime,
    result: AttendanceResult,
) -> Reservation:
    """Write an unbooked presence: a place of its own order, paid from the service's pocket when
    it holds the price, else to invoice. The day's counter (locked) counts it, over capacity
    if need be: the child is there."""
    price = unbooked_price_cents(product)
    order = Order.objects.create(
        family_id=family_id,
        placed_by=staff_user,
        status=OrderStatus.PAID,
        payment_method=PaymentChoice.WALLET,
        amount_cents=price,
        on_behalf=True,
        consent_note="Présence sans réservation (pointage)",
    )
    paid = price == 0
    if price:
        wallet = wallet_of_family(family_id)
        try:
            post_transaction(
                source_key=ledger_keys.order_payment(commune, order.pk, product.service_id),
                kind=TransactionKind.SPEND,
                lines=[
                    (service_pocket(wallet, commune, product.service_id), -price),
                    (revenue_account(commune, product.service_id), price),
                ],
                description=f"Présence sans réservation : {product.name} du {day:%d/%m/%Y}",
                wallet=wallet,
                commune=commune,
                service_id=product.service_id,
                created_by=staff_user,
            )
            paid = True
        except InsufficientBalance:
            paid = False
    if paid:
        order.wallet_cents = price
        order.save(update_fields=["wallet_cents"])
        result.billed_cents += price
    else:
        order.status = OrderStatus.TO_INVOICE
        order.payment_method = PaymentChoice.DIRECT_DEBIT
        order.save(update_fields=["status", "payment_method"])
        result.to_invoice_cents += price
    reservation = Reservation.objects.create(
        order=order,
        family_id=family_id,
        child_id=child_id,
        product=product,
        date=day,
        price_cents=price,
        full_price_cents=price,
        sibling_price_cents=price,
        paid_by=PaymentChoice.WALLET if paid else PaymentChoice.DIRECT_DEBIT,
        status=ReservationStatus.ATTENDED,
        marked_at=now,
        marked_by=staff_user,
        added_at_attendance=True,
    )
    reservation.order = order
    add_to_day_counts([(product.pk, day, 1)])
    return reservation


def _child_ids(values: Iterable[object] | None) -> set[int]:
    try:
        return {int(c) for c in values or []}  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise InvalidBooking("Jour ou enfants invalides.") from exc


def mark_attendance(
    *,
    commune: Commune,
    staff_user: User,
    day: datetime.date | str,
    product_id: int | str,
    present: Iterable[int] | None,
    absent: Iterable[int] | None,
    added: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
) -> AttendanceResult:
    """Mark the children `present` and `absent` on `day` (today or a day gone, never a day to
    come): each must be booked that day (InvalidBooking, 400, otherwise). `added`: children
    who came unbooked, enrolled in the product's service (ChildNotFound, 404, otherwise),
    marked present and billed by the product's rule (AttendanceRefused, 409, when the rule
    does not accept them). Changing an existing marking is a correction: only on the day
    itself (CorrectionTooLate, 409). Marking a child as it already is changes nothing.

    Applies the rule's money once per change (see the module), writes an `AttendanceMark` per
    change and one audit entry per call. Returns what changed (`AttendanceResult`).
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    today = timezone.localdate(now)
    product = active_product(product_id)
    parsed_day = parse_date(day)
    present, absent, added_ids = _child_ids(present), _child_ids(absent), _child_ids(added)
    if parsed_day is None:
        raise InvalidBooking("Jour ou enfants invalides.")
    day = parsed_day
    if present & absent or added_ids & absent:
        raise InvalidBooking("Un enfant ne peut pas être à la fois présent et absent.")
    if day > today:
        raise InvalidBooking(
            "On ne pointe pas un jour à venir.", fields={"date": ["Jour à venir."]}
        )
    result = AttendanceResult()
    changes: list[dict] = []
    with transaction.atomic():
        # Refunds and bills move money: not in a commune closed meanwhile (the request's
        # commune may be a stale cached copy), read FOR SHARE first as a checkout does.
        lock_active_commune(commune)
        # The booking paths' lock order: the day's counter, then its reservations by id, then
        # their orders, then the wallet accounts.
        lock_counters([(product.pk, day)])
        booked = {
            r.child_id: r
            for r in Reservation.objects.select_for_update(of=("self",))
            .filter(product=product, date=day, status__in=LIVE_STATUSES)
            .order_by("pk")
        }
        # A child added who is booked after all is simply present.
        present |= added_ids & set(booked)
        added_ids -= set(booked)
        unknown = (present | absent) - set(booked)
        if unknown:
            raise InvalidBooking(
                "Ces enfants n’ont pas de réservation ce jour-là.",
                fields={"children": [str(c) for c in sorted(unknown)]},
            )
        targets = {c: ReservationStatus.ATTENDED for c in present}
        targets.update({c: ReservationStatus.ABSENT for c in absent})
        changing = [booked[c] for c in sorted(targets) if booked[c].status != targets[c]]
        corrections = [r for r in changing if r.status != ReservationStatus.BOOKED]
        if corrections and day != today:
            raise CorrectionTooLate(
                f"Le pointage du {rules.day_label(day)} ne peut plus être modifié : une "
                "correction se fait le jour même.",
                fields={"children": [str(r.child_id) for r in corrections]},
            )
        enrolled: dict[int, int] = {}
        if added_ids:
            if product.unbooked_presence != UnbookedPresence.BILLED:
                raise AttendanceRefused(
                    f"« {product.name} » n’accepte pas d’enfant sans réservation (règle de "
                    "la commune).",
                    fields={"added": [str(c) for c in sorted(added_ids)]},
                )
            enrolled = dict(
                Enrollment.objects.filter(
                    service_id=product.service_id,
                    child_id__in=added_ids,
                    child__removed_at__isnull=True,  # a child who left the family's list
                ).values_list("child_id", "family_id")
            )
            if set(enrolled) != added_ids:
                raise ChildNotFound(
                    fields={"added": [str(c) for c in sorted(added_ids - set(enrolled))]}
                )
        orders = {
            o.pk: o
            for o in Order.objects.select_for_update()
            .filter(pk__in=sorted({r.order_id for r in changing}))
            .order_by("pk")
        }
        for reservation in changing:
            reservation.order = orders[reservation.order_id]
            reservation.product = product
        with_certificate = set(
            MedicalCertificate.objects.filter(reservation__in=[r.pk for r in changing]).values_list(
                "reservation_id", flat=True
            )
        )
        # Only the families whose money moves have their accounts locked (a queried pocket
        # each): marking a whole day present costs the same few queries for 3 or 300 children.
        money_families = {
            r.family_id
            for r in changing
            if not _pays_by_invoice(r)
            and _moves_money(r, product, targets[r.child_id], r.pk in with_certificate)
        }
        money_families |= set(enrolled.values())
        if money_families:
            lock_refund_accounts(
                family_ids=money_families, commune=commune, service_id=product.service_id
            )
        # One mark per change, written at once (their ids name the money they move).
        marks = AttendanceMark.objects.bulk_create(
            AttendanceMark(
                reservation=reservation,
                before=reservation.status,
                after=(
                    ReservationStatus.CANCELLED
                    if reservation.added_at_attendance
                    and targets[reservation.child_id] == ReservationStatus.ABSENT
                    else targets[reservation.child_id]
                ),
                reason="correction"
                if reservation.status != ReservationStatus.BOOKED
                else "marking",
                marked_by=staff_user,
            )
            for reservation in changing
        )
        for reservation, mark in zip(changing, marks, strict=True):
            before = reservation.status
            if mark.after == ReservationStatus.CANCELLED:
                mark.money_cents = _cancel_unbooked(
                    reservation, commune=commune, user=staff_user, now=now, result=result
                )
                free_places([(product.pk, day)])
            else:
                reservation.status = mark.after
                _settle_refund(
                    reservation,
                    mark,
                    _target_refund(reservation, product, reservation.pk in with_certificate),
                    commune=commune,
                    user=staff_user,
                    result=result,
                )
            reservation.marked_at, reservation.marked_by = now, staff_user
            changes.append(
                {
                    "reservation": reservation.pk,
                    "child": reservation.child_id,
                    "before": before,
                    "after": mark.after,
                    "money_cents": mark.money_cents,
                }
            )
        Reservation.objects.bulk_update(
            changing,
            [
                "status",
                "marked_at",
                "marked_by",
                "attendance_refund_cents",
                "attendance_due_cents",
                "refund_cents",
                "cancelled_at",
                "cancelled_by",
            ],
        )
        AttendanceMark.objects.bulk_update(
            [m for m in marks if m.money_cents or m.due_cents], ["money_cents", "due_cents"]
        )
        for child_id in sorted(added_ids):
            reservation = _add_unbooked(
                commune=commune,
                staff_user=staff_user,
                product=product,
                day=day,
                child_id=child_id,
                family_id=enrolled[child_id],
                now=now,
                result=result,
            )
            paid = reservation.paid_by == PaymentChoice.WALLET
            AttendanceMark.objects.create(
                reservation=reservation,
                before="",
                after=ReservationStatus.ATTENDED,
                reason="unbooked",
                marked_by=staff_user,
                money_cents=-reservation.price_cents if paid else 0,
                due_cents=0 if paid else reservation.price_cents,
            )
            result.added.append(reservation.pk)
            changes.append(
                {
                    "reservation": reservation.pk,
                    "child": child_id,
                    "before": "",
                    "after": ReservationStatus.ATTENDED,
                    "money_cents": -reservation.price_cents if paid else 0,
                }
            )
        result.updated = len(changes)
        if changes:
            record(
                actor=staff_user,
                commune=commune,
                action="booking.attendance",
                target_type="product_day",
                target_id=f"{product.pk}:{day.isoformat()}",
                details={
                    "present": sorted(present),
                    "absent": sorted(absent),
                    "added": sorted(added_ids),
                    "changes": changes,
                },
            )
    return result


# --- Medical certificates ----------------------------------------------------------------------


def _check_certificate(upload: UploadedFile) -> tuple[str, str]:
    """(content type, original name) of a PDF, JPEG or PNG checked by its content, or
    InvalidBooking with a French message (the enrolment documents' check)."""
    from tenant_apps.enrollments.uploads import check_document

    if upload is None:
        raise InvalidBooking(
            "Joignez le certificat médical.", fields={"file": ["Fichier obligatoire."]}
        )
    checked = check_document(upload, DocumentType(accepted_formats=all_formats()))
    if isinstance(checked, str):
        raise InvalidBooking(checked, fields={"file": [checked]})
    return checked.content_type, (upload.name or "certificat")[-255:]


def upload_certificate(
    *,
    commune: Commune,
    user: User,
    reservation_id: int | str,
    upload: UploadedFile,
    staff: bool = False,
    now: datetime.datetime | None = None,
) -> MedicalCertificate:
    """A medical certificate for a child's absence, uploaded by the child's family (`staff`
    False: only its own reservations) or by an agent. The day must be gone or today, within
    CERTIFICATE_WINDOW_DAYS, and not marked present. When the day is already marked absent,
    the product's sick rule is applied now (once: `AttendanceMark` "certificate"); when it is
    marked absent later, the certificate counts then.

    Raises ReservationNotFound (404: not this family's, unknown), AttendanceRefused (409: a
    day to come, too old, marked present, cancelled), InvalidBooking (400: the file).
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    today = timezone.localdate(now)
    query = Reservation.objects.filter(pk=as_int(reservation_id))  # type: ignore[misc]
    if not staff:
        query = query.filter(family_id=family_id_of(user))  # type: ignore[misc]
    found = query.values("pk", "product_id", "date").first()
    if found is None:
        raise ReservationNotFound()
    content_type, original_name = _check_certificate(upload)
    with transaction.atomic():
        lock_active_commune(commune)  # a sick refund is money: as in mark_attendance
        lock_counters([(found["product_id"], found["date"])])
        reservation = (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("product")
            .get(pk=found["pk"])
        )
        if reservation.date > today:
            raise AttendanceRefused(
                "Un certificat médical se dépose le jour de l’absence ou après."
            )
        if reservation.date < today - datetime.timedelta(days=CERTIFICATE_WINDOW_DAYS):
            raise AttendanceRefused(
                f"Un certificat médical se dépose dans les {CERTIFICATE_WINDOW_DAYS} jours "
                "qui suivent l’absence."
            )
        if reservation.status not in (ReservationStatus.BOOKED, ReservationStatus.ABSENT):
            raise AttendanceRefused(
                "Ce jour n’est pas une absence : l’enfant a été pointé présent, ou la "
                "réservation est annulée."
            )
        reservation.order = Order.objects.select_for_update().get(pk=reservation.order_id)
        certificate = MedicalCertificate(
            reservation=reservation,
            original_name=original_name,
            content_type=content_type,
            size=upload.size or 0,
            uploaded_by=user,
        )
        certificate.file.save(f"certificat.{certificate.extension}", upload, save=False)
        certificate.save()
        money = 0
        if reservation.status == ReservationStatus.ABSENT:
            result = AttendanceResult()
            if not _pays_by_invoice(reservation):
                lock_refund_accounts(
                    family_ids=[reservation.family_id],
                    commune=commune,
                    service_id=reservation.product.service_id,
                )
            target = _target_refund(reservation, reservation.product, True)
            if target != reservation.attendance_refund_cents:
                mark = AttendanceMark.objects.create(
                    reservation=reservation,
                    before=reservation.status,
                    after=reservation.status,
                    reason="certificate",
                    marked_by=user,
                )
                _settle_refund(reservation, mark, target, commune=commune, user=user, result=result)
                mark.save(update_fields=["money_cents", "due_cents"])
                reservation.save(update_fields=["attendance_refund_cents", "attendance_due_cents"])
                money = mark.money_cents
        record(
            actor=user,
            commune=commune,
            action="booking.medical_certificate",
            target_type="reservation",
            target_id=reservation.pk,
            family_id=reservation.family_id,
            details={"certificate": certificate.pk, "by_staff": staff, "money_cents": money},
        )
    return certificate
