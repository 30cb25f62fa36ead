from rest_framework import serializers

from shared_apps.common.validation import MAX_DATABASE_ID
from tenant_apps.bookings.parsing import MAX_CHILDREN_PER_REQUEST, MAX_DAYS_PER_REQUEST


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    status = serializers.CharField()
    price_cents = serializers.IntegerField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(
        help_text="Why a closed day is closed, in French (« Vacances de Noël », « Jour férié "
        "(Vendredi saint) », « Calendrier scolaire pas encore publié »); empty otherwise."
    )


class CartItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    child_id = serializers.IntegerField()
    child_name = serializers.SerializerMethodField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    variant_id = serializers.IntegerField(allow_null=True)
    date = serializers.DateField()
    price_cents = serializers.IntegerField()

    def get_child_name(self, item) -> str:
        child = getattr(item, "child", None)
        return f"{child.first_name} {child.last_name}" if child else ""


class AddItemsSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    child_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID),
        max_length=MAX_CHILDREN_PER_REQUEST,
    )
    dates = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=MAX_DAYS_PER_REQUEST
    )
    variant_id = serializers.IntegerField(required=False, allow_null=True)


class CheckoutSerializer(serializers.Serializer):
    payment_method = serializers.CharField(max_length=20)


class BookSerializer(AddItemsSerializer):
    payment_method = serializers.CharField(
        max_length=20, help_text="`wallet`, `direct_debit` or `card`, as for `cart/checkout`."
    )


class BookedPlaceSerializer(serializers.Serializer):
    """A place just booked, as `POST reservations` answers it (`GET reservations` gives the
    cancellation terms)."""

    id = serializers.IntegerField()
    child_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    date = serializers.DateField()
    price_cents = serializers.IntegerField()


class ReservationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    child_id = serializers.IntegerField()
    child_name = serializers.SerializerMethodField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    service_id = serializers.IntegerField(source="product.service_id")
    date = serializers.DateField()
    status = serializers.CharField()
    price_cents = serializers.IntegerField()
    paid_by = serializers.CharField()
    cancellable_until = serializers.DateTimeField(allow_null=True)
    refund_if_cancelled_cents = serializers.IntegerField(allow_null=True)
    booked_by = serializers.SerializerMethodField(
        help_text='Who booked: "parent" (a guardian), or "commune" (the town hall\'s staff '
        "on the family's behalf, shown « Réservé par la mairie »)."
    )

    def get_child_name(self, reservation) -> str:
        return f"{reservation.child.first_name} {reservation.child.last_name}"

    def get_booked_by(self, reservation) -> str:
        return "commune" if reservation.order.on_behalf else "parent"


class EverywhereReservationSerializer(ReservationSerializer):
    """A reservation in the list across communes: with its commune."""

    commune_slug = serializers.CharField()
    commune_name = serializers.CharField()
