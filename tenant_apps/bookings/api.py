"""Booking API: calendar, cart, checkout, reservations (here and in every commune),
cancellation, attendance, booking on behalf (the staff headcount is in backoffice.api). Thin:
validate, call one use case with `request.tenant`, serialize."""

from __future__ import annotations

import datetime

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.validation import MAX_DATABASE_ID, InvalidInput, date_param, int_param
from shared_apps.families.selectors import family_id_of
from tenant_apps.bookings import selectors
from tenant_apps.bookings.attendance_selectors import latest_certificate_of_family
from tenant_apps.bookings.errors import ProductNotFound, ReservationNotFound
from tenant_apps.bookings.models import PaymentChoice
from tenant_apps.bookings.parsing import MAX_ATTENDANCE_CHILDREN, MAX_DAYS_ON_BEHALF
from tenant_apps.bookings.payment_methods import available_payment_methods
from tenant_apps.bookings.serializers import (
    AddItemsSerializer,
    BookedPlaceSerializer,
    BookSerializer,
    CalendarDaySerializer,
    CartItemSerializer,
    CheckoutSerializer,
    EverywhereReservationSerializer,
    ReservationSerializer,
)
from tenant_apps.bookings.services.attendance import mark_attendance, upload_certificate
from tenant_apps.bookings.services.cancellation import cancel_reservation
from tenant_apps.bookings.services.cart import add_to_cart, remove_cart_item
from tenant_apps.bookings.services.checkout import checkout
from tenant_apps.bookings.services.direct_booking import book_and_pay
from tenant_apps.bookings.services.on_behalf import book_on_behalf
from tenant_apps.bookings.wording import refund_sentence
from tenant_apps.catalog.models import Product
from tenants.permissions import IsCommuneStaff

MAX_CALENDAR_DAYS = 366


def _date_param(request, name: str, *, required: bool = True) -> datetime.date | None:
    return date_param(request.query_params, name, required=required)


def _int_param(request, name: str) -> int:
    return int_param(request.query_params, name)


class CalendarView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("product_id", int, required=True),
            OpenApiParameter("child_id", int, required=True),
            OpenApiParameter("from", datetime.date, required=True),
            OpenApiParameter("to", datetime.date, required=True),
        ],
        responses=CalendarDaySerializer(many=True),
        tags=["bookings"],
    )
    def get(self, request):
        product_id, child_id = _int_param(request, "product_id"), _int_param(request, "child_id")
        start, end = _date_param(request, "from"), _date_param(request, "to")
        if end < start or (end - start).days >= MAX_CALENDAR_DAYS:
            raise InvalidInput(fields={"to": ["Période de 1 à 366 jours, « to » après « from »."]})
        product = (
            Product.objects.filter(pk=product_id, is_active=True).select_related("service").first()
        )
        if product is None:
            raise ProductNotFound()
        if child_id not in {
            c.pk for c in selectors.enrolled_children(request.user, product.service_id)
        }:
            from shared_apps.common.errors import NotFound

            raise NotFound("Enfant introuvable ou non inscrit à ce service.")
        days = selectors.calendar(
            commune=request.tenant,
            user=request.user,
            product=product,
            child_id=child_id,
            start=start,
            end=end,
        )
        return Response(CalendarDaySerializer(days, many=True).data)


def _cart_body(user) -> dict:
    cart, items = selectors.cart_of(user)
    return {
        "items": CartItemSerializer(items, many=True).data,
        "total_cents": sum(i.price_cents for i in items),
        "expires_at": cart.expires_at if cart and items else None,
        "payment_methods": available_payment_methods(
            family_id_of(user), selectors.services_of_items(items)
        ),
    }


CartSchema = inline_serializer(
    "Cart",
    {
        "items": CartItemSerializer(many=True),
        "total_cents": serializers.IntegerField(),
        "expires_at": serializers.DateTimeField(allow_null=True),
        "payment_methods": serializers.ListField(
            child=serializers.ChoiceField(choices=PaymentChoice.choices),
            help_text="What `cart/checkout` accepts now for this cart: methods every service "
            "of the cart accepts and that can work now (`card` only when card payment is "
            "configured). Empty when the cart is empty.",
        ),
    },
)


class CartView(APIView):
    @extend_schema(responses=CartSchema, tags=["bookings"])
    def get(self, request):
        return Response(_cart_body(request.user))


class CartItemsView(APIView):
    @extend_schema(
        request=AddItemsSerializer,
        responses={201: CartItemSerializer(many=True)},
        tags=["bookings"],
    )
    def post(self, request):
        serializer = AddItemsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = add_to_cart(commune=request.tenant, user=request.user, **serializer.validated_data)
        added = selectors.cart_items(ids=[item.pk for item in items])
        return Response(CartItemSerializer(added, many=True).data, status=status.HTTP_201_CREATED)


class CartItemView(APIView):
    @extend_schema(responses={204: None}, tags=["bookings"])
    def delete(self, request, item_id: int):
        remove_cart_item(commune=request.tenant, user=request.user, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _order_schema(name: str, reservations: serializers.Serializer):
    """The answer of `cart/checkout` and `POST reservations`: the order placed, its places."""
    return inline_serializer(
        name,
        {
            "order_id": serializers.IntegerField(),
            "status": serializers.CharField(),
            "amount_cents": serializers.IntegerField(),
            "wallet_cents": serializers.IntegerField(),
            "card_cents": serializers.IntegerField(),
            "reservations": reservations,
            "payment": serializers.DictField(required=False),
        },
    )


class CheckoutView(APIView):
    @extend_schema(
        request=CheckoutSerializer,
        # 201 (the order is created), as answered; the schema said 200 (found by schemathesis).
        responses={201: _order_schema("CheckoutResult", ReservationSerializer(many=True))},
        tags=["bookings"],
    )
    def post(self, request):
        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = checkout(commune=request.tenant, user=request.user, **serializer.validated_data)
        reservations = selectors.with_cancellation_terms(
            selectors.reservations_of_order(result.order.pk),  # the user's: checkout placed it
            commune=request.tenant,
        )
        body = _order_body(result)
        body["reservations"] = ReservationSerializer(reservations, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


def _order_body(result) -> dict:
    """What `cart/checkout` and `POST reservations` answer about the order placed."""
    order = result.order
    body = {
        "order_id": order.pk,
        "status": order.status,
        "amount_cents": order.amount_cents,
        "wallet_cents": order.wallet_cents,
        "card_cents": order.card_cents,
    }
    if result.payment is not None:
        from shared_apps.payments.services import client_config

        body["payment"] = {"id": result.payment.pk, **(client_config(result.payment) or {})}
    return body


class ReservationsView(GenericAPIView):
    serializer_class = ReservationSerializer

    @extend_schema(
        parameters=[OpenApiParameter("from", datetime.date), OpenApiParameter("to", datetime.date)],
        responses=ReservationSerializer(many=True),
        tags=["bookings"],
    )
    def get(self, request):
        queryset = selectors.reservations_of_family(request.user)
        start, end = (
            _date_param(request, "from", required=False),
            _date_param(request, "to", required=False),
        )
        if start:
            queryset = queryset.filter(date__gte=start)
        if end:
            queryset = queryset.filter(date__lte=end)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(
            ReservationSerializer(
                selectors.with_cancellation_terms(page, commune=request.tenant), many=True
            ).data
        )

    @extend_schema(
        request=BookSerializer,
        responses={201: _order_schema("Booking", BookedPlaceSerializer(many=True))},
        tags=["bookings"],
        operation_id="reservations_book",
        description="Book days for some of the family's children and pay, in one step, "
        "without the cart (the app's « Réserver et payer »): the rules, errors and payment "
        "methods of `cart/items` then `cart/checkout`, all or nothing; the same days are "
        "taken out of the cart. By card, `payment` holds what the card step needs.",
    )
    def post(self, request):
        serializer = BookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = book_and_pay(
            commune=request.tenant, user=request.user, **serializer.validated_data
        )
        body = _order_body(result)
        # Built from the rows just written: nothing is read back, nothing to serialise.
        body["reservations"] = [
            {
                "id": r.pk,
                "child_id": r.child_id,
                "product_id": r.product_id,
                "date": r.date.isoformat(),
                "price_cents": r.price_cents,
            }
            for r in result.reservations
        ]
        return Response(body, status=status.HTTP_201_CREATED)


class CancelView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer(
            "Cancellation",
            {
                "refund_cents": serializers.IntegerField(),
                "pocket": serializers.CharField(allow_null=True),
                "message": serializers.CharField(
                    help_text="Ce que devient l’argent, en français, pour la personne."
                ),
            },
        ),
        tags=["bookings"],
    )
    def post(self, request, reservation_id: int):
        result = cancel_reservation(
            commune=request.tenant, user=request.user, reservation_id=reservation_id
        )
        sentence = refund_sentence(
            result.reservation, result.refund_cents, done=True, split=result.split
        )
        return Response(
            {
                "refund_cents": result.refund_cents,
                "pocket": result.pocket,
                "message": f"Réservation annulée. {sentence}",
            }
        )


class OnBehalfSerializer(serializers.Serializer):
    child_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    dates = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=MAX_DAYS_ON_BEHALF
    )
    consent_note = serializers.CharField(
        max_length=500,
        allow_blank=True,
        required=False,
        default="",
        help_text="Who agreed, when, how. Required (400 consent_required) unless the family "
        "gave this commune standing consent.",
    )
    variant_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_DATABASE_ID,
        help_text="The meal variant; required when the product has variants, 0 choosing the "
        "standard meal (400 invalid when missing, so that a PAI child is never counted as "
        "standard by omission).",
    )


class StaffReservationsView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        request=OnBehalfSerializer,
        responses={201: ReservationSerializer(many=True)},
        tags=["staff"],
        description="Book on a family's behalf, with its agreement (standing consent, or "
        "`consent_note`), paid from its wallet. 400 `consent_required` without either; 409 "
        "`insufficient_balance` (the message says the balance and what is missing).",
    )
    def post(self, request):
        serializer = OnBehalfSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = book_on_behalf(
            commune=request.tenant, staff_user=request.user, **serializer.validated_data
        )
        reservations = selectors.with_cancellation_terms(
            result.order.reservations.select_related("product__service", "child"),
            commune=request.tenant,
        )
        return Response(
            ReservationSerializer(reservations, many=True).data, status=status.HTTP_201_CREATED
        )


class AttendanceSerializer(serializers.Serializer):
    date = serializers.DateField()
    product_id = serializers.IntegerField()
    present = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID),
        required=False,
        default=list,
        max_length=MAX_ATTENDANCE_CHILDREN,
    )
    absent = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID),
        required=False,
        default=list,
        max_length=MAX_ATTENDANCE_CHILDREN,
    )
    added = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID),
        required=False,
        default=list,
        max_length=MAX_ATTENDANCE_CHILDREN,
        help_text="Children who came unbooked (enrolled in the product's service): marked "
        "present and billed by the product's rule (409 when it does not accept them).",
    )


AttendanceResultSerializer = inline_serializer(
    "AttendanceResult",
    {
        "updated": serializers.IntegerField(help_text="Markings changed or added."),
        "refunded_cents": serializers.IntegerField(help_text="Given back to pockets now."),
        "taken_back_cents": serializers.IntegerField(
            help_text="Refunds taken back from pockets (same-day corrections)."
        ),
        "billed_cents": serializers.IntegerField(
            help_text="Unbooked presences paid from the pocket."
        ),
        "to_invoice_cents": serializers.IntegerField(
            help_text="Added to (negative: taken off) what is due on the next invoice."
        ),
        "off_invoice_cents": serializers.IntegerField(
            help_text="Direct-debit absences not invoiced (negative: invoiced again)."
        ),
        "added": serializers.ListField(
            child=serializers.IntegerField(), help_text="Reservation ids of unbooked presences."
        ),
    },
)


class AttendanceView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        request=AttendanceSerializer,
        responses=AttendanceResultSerializer,
        tags=["staff"],
        description="Mark the day's children present or absent (today or a day gone); a "
        "changed marking is a correction, only on the day itself (409 after). The product's "
        "rules refund absences and bill unbooked presences, once per change.",
    )
    def post(self, request):
        serializer = AttendanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = mark_attendance(
            commune=request.tenant,
            staff_user=request.user,
            day=data["date"],
            product_id=data["product_id"],
            present=data["present"],
            absent=data["absent"],
            added=data["added"],
        )
        return Response(
            {
                "updated": result.updated,
                "refunded_cents": result.refunded_cents,
                "taken_back_cents": result.taken_back_cents,
                "billed_cents": result.billed_cents,
                "to_invoice_cents": result.to_invoice_cents,
                "off_invoice_cents": result.off_invoice_cents,
                "added": result.added,
            }
        )


CertificateSchema = inline_serializer(
    "MedicalCertificate",
    {
        "id": serializers.IntegerField(),
        "reservation_id": serializers.IntegerField(),
        "uploaded_at": serializers.DateTimeField(),
        "attendance_refund_cents": serializers.IntegerField(
            help_text="What the absence gives back now, with the certificate."
        ),
    },
)
CertificateUpload = inline_serializer("MedicalCertificateUpload", {"file": serializers.FileField()})


def _certificate_response(certificate) -> Response:
    reservation = certificate.reservation
    reservation.refresh_from_db(fields=["attendance_refund_cents"])
    return Response(
        {
            "id": certificate.pk,
            "reservation_id": reservation.pk,
            "uploaded_at": certificate.uploaded_at,
            "attendance_refund_cents": reservation.attendance_refund_cents,
        },
        status=status.HTTP_201_CREATED,
    )


class CertificateView(APIView):
    """A parent's medical certificate for their child's absence."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        # As uploaded (found by schemathesis: it said octet-stream).
        responses={
            (200, media): OpenApiTypes.BINARY
            for media in ("application/pdf", "image/jpeg", "image/png")
        },
        tags=["bookings"],
        operation_id="reservation_certificate_file",
        description="The latest medical certificate sent for this reservation of the family "
        "(PDF, JPEG or PNG); 404 when there is none or the reservation is another family's.",
    )
    def get(self, request, reservation_id: int):
        certificate = latest_certificate_of_family(user=request.user, reservation_id=reservation_id)
        if certificate is None:
            raise ReservationNotFound("Aucun certificat médical pour cette réservation.")
        response = FileResponse(
            certificate.file.open("rb"),
            content_type=certificate.content_type,
            as_attachment=True,
            filename=f"certificat-medical.{certificate.extension}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        request={"multipart/form-data": CertificateUpload},
        responses={201: CertificateSchema},
        tags=["bookings"],
        description="A medical certificate (PDF, JPEG or PNG) for the child's absence that day "
        "(today or within 30 days): with the commune's sick rule, the absence is refunded.",
    )
    def post(self, request, reservation_id: int):
        certificate = upload_certificate(
            commune=request.tenant,
            user=request.user,
            reservation_id=reservation_id,
            upload=request.FILES.get("file"),
        )
        return _certificate_response(certificate)


class StaffCertificateView(APIView):
    permission_classes = [IsCommuneStaff]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": CertificateUpload},
        responses={201: CertificateSchema},
        tags=["staff"],
        description="An agent records a medical certificate for a child's absence.",
    )
    def post(self, request, reservation_id: int):
        certificate = upload_certificate(
            commune=request.tenant,
            user=request.user,
            reservation_id=reservation_id,
            upload=request.FILES.get("file"),
            staff=True,
        )
        return _certificate_response(certificate)


class ReservationsEverywhereView(GenericAPIView):
    """The family's reservations in every commune it deals with (public URL, no commune)."""

    serializer_class = EverywhereReservationSerializer

    @extend_schema(
        parameters=[OpenApiParameter("from", datetime.date)],
        responses=EverywhereReservationSerializer(many=True),
        tags=["bookings"],
        operation_id="reservations_everywhere_list",
        description="The family's reservations in every commune, by date.",
    )
    def get(self, request):
        since = date_param(request.query_params, "from", required=False)
        rows = []
        for commune, reservations in selectors.reservations_everywhere(request.user, since=since):
            for reservation in reservations:
                reservation.commune_slug, reservation.commune_name = commune.slug, commune.name
                rows.append(reservation)
        rows.sort(key=lambda r: (r.date, r.commune_name, r.child_id))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(EverywhereReservationSerializer(page, many=True).data)
