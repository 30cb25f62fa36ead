"""`insert_rows`: one INSERT of arrays gives what bulk_create would (defaults, ids in order)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from shared_apps.common.bulk_insert import insert_rows
from tenant_apps.bookings.models import Order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_rows_are_written_with_their_defaults_and_returned_in_order(commune_a, in_commune):
    user = UserFactory()
    with in_commune(commune_a):
        with CaptureQueriesContext(connection) as context:
            orders = insert_rows(
                Order,
                [{"amount_cents": 300}, {"amount_cents": 100}, {"amount_cents": 200}],
                family_id=7,
                placed_by_id=user.pk,
                status="paid",
                payment_method="wallet",
            )
        inserts = [q for q in context.captured_queries if not q["sql"].startswith("SET ")]
        assert len(inserts) == 1
        assert [o.amount_cents for o in orders] == [300, 100, 200]
        assert [o.pk for o in orders] == sorted(o.pk for o in orders)
        stored = {o.pk: o for o in Order.objects.all()}
        for order in orders:
            row = stored[order.pk]
            assert (row.amount_cents, row.family_id, row.status) == (order.amount_cents, 7, "paid")
            # the model's defaults, as bulk_create would have written them
            assert (row.wallet_cents, row.card_by_service, row.on_behalf, row.consent_note) == (
                0,
                {},
                False,
                "",
            )
            assert row.created_at == order.created_at is not None


def test_bad_field_names_are_refused_before_any_query(commune_a, in_commune):
    with in_commune(commune_a), CaptureQueriesContext(connection) as context:
        with pytest.raises(ValueError, match="no field"):
            insert_rows(Order, [{"amount_cent": 1}], family_id=1)
        with pytest.raises(ValueError, match="same fields"):
            insert_rows(Order, [{"amount_cents": 1}, {"wallet_cents": 1}], family_id=1)
    assert context.captured_queries == []


def test_a_refused_row_writes_none_of_them(commune_a, in_commune):
    user = UserFactory()
    with in_commune(commune_a):
        with pytest.raises(IntegrityError), transaction.atomic():
            insert_rows(
                Order,
                [{"amount_cents": 100}, {"amount_cents": -1}],  # PositiveIntegerField's check
                family_id=7,
                placed_by_id=user.pk,
                status="paid",
                payment_method="wallet",
            )
        assert not Order.objects.exists()


def test_a_parent_and_its_rows_in_one_statement(frozen, parent, canteen, commune_a, in_commune):
    import datetime

    from shared_apps.common.bulk_insert import insert_with_parent
    from tenant_apps.bookings.models import Reservation

    with in_commune(commune_a), CaptureQueriesContext(connection) as context:
        order, places = insert_with_parent(
            Order,
            {
                "family_id": parent.family.pk,
                "placed_by_id": parent.pk,
                "status": "paid",
                "payment_method": "wallet",
                "amount_cents": 760,
            },
            Reservation,
            "order_id",
            [
                {"child_id": kid.pk, "date": datetime.date(2026, 12, 7), "price_cents": 380}
                for kid in parent.kids
            ],
            family_id=parent.family.pk,
            product_id=canteen.pk,
            paid_by="wallet",
        )
        stored = list(Reservation.objects.order_by("pk").values_list("pk", "order_id", "child_id"))
        stored_order = Order.objects.get()
    inserts = [q for q in context.captured_queries if q["sql"].startswith("WITH parent")]
    assert len(inserts) == 1
    assert (stored_order.pk, stored_order.amount_cents) == (order.pk, 760)
    assert stored == [(p.pk, order.pk, p.child_id) for p in places]
    assert [p.child_id for p in places] == [k.pk for k in parent.kids]
    assert all(p.order_id == order.pk and p.status == "booked" for p in places)
