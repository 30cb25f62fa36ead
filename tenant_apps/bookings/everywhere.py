"""The family's reservations across every commune it deals with ("Mes réservations").

Visits only the communes the family is linked to, a constant number of queries each.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django_tenants.utils import tenant_context
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from shared_apps.families.selectors import communes_of_family, family_id_of
from tenant_apps.bookings import selectors
from tenant_apps.bookings.serializers import ReservationSerializer


def reservations_everywhere(user, *, since: datetime.date | None = None) -> list[tuple]:
    """[(commune, [reservation, …]), …] for every commune of the user's family."""
    result = []
    for commune in communes_of_family(family_id_of(user)):
        with tenant_context(commune):
            queryset = selectors.reservations_of_family(user)
            if since:
                queryset = queryset.filter(date__gte=since)
            result.append((commune, selectors.with_cancellation_terms(list(queryset))))
    return result


def upcoming_reservations_of_child(*, user, child_id: int) -> list[tuple]:
    """[(commune, reservation), …] booked from today on for one child, in every commune."""
    today = timezone.localdate()
    return [
        (commune, reservation)
        for commune, reservations in reservations_everywhere(user, since=today)
        for reservation in reservations
        if reservation.child_id == child_id and reservation.status == "booked"
    ]


def cancel_upcoming_reservations_of_child(*, user, child_id: int) -> list[tuple]:
    """Cancel what can still be cancelled; what cannot stays booked (and billed)."""
    from tenant_apps.bookings.errors import NotCancellable
    from tenant_apps.bookings.services import cancel_reservation

    outcome = []
    for commune, reservation in upcoming_reservations_of_child(user=user, child_id=child_id):
        with tenant_context(commune):
            try:
                result = cancel_reservation(user=user, reservation_id=reservation.pk)
                outcome.append((commune, reservation, result.refund_cents))
            except NotCancellable:
                outcome.append((commune, reservation, None))
    return outcome


@login_required
def page(request):
    today = timezone.localdate()
    groups = [
        (commune, [r for r in reservations if r.status == "booked"])
        for commune, reservations in reservations_everywhere(request.user, since=today)
    ]
    return render(request, "bookings/everywhere.html", {"groups": groups})


class EverywhereReservationSerializer(ReservationSerializer):
    commune_slug = serializers.CharField()
    commune_name = serializers.CharField()


class ReservationsEverywhereView(GenericAPIView):
    serializer_class = EverywhereReservationSerializer

    @extend_schema(
        parameters=[OpenApiParameter("from", datetime.date)],
        responses=EverywhereReservationSerializer(many=True),
        tags=["bookings"],
        operation_id="reservations_everywhere_list",
        description="The family's reservations in every commune, by date.",
    )
    def get(self, request):
        from shared_apps.common.validation import date_param

        since = date_param(request.query_params, "from", required=False)
        rows = []
        for commune, reservations in reservations_everywhere(request.user, since=since):
            for reservation in reservations:
                reservation.commune_slug, reservation.commune_name = commune.slug, commune.name
                rows.append(reservation)
        rows.sort(key=lambda r: (r.date, r.commune_name, r.child_id))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(EverywhereReservationSerializer(page, many=True).data)
