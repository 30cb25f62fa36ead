"""Family API: children, the invitation of a second guardian, the calendar feed's address, the
standing consent for each commune's staff to book on the family's behalf."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.client_ip import client_ip
from shared_apps.common.errors import NotFound
from shared_apps.families import services
from shared_apps.families.selectors import (
    calendar_feed_urls,
    child_of,
    children_of,
    commune_links_of,
    family_id_of,
)
from shared_apps.families.serializers import (
    AcceptInvitationSerializer,
    CalendarFeedSerializer,
    ChildInputSerializer,
    ChildSerializer,
    FamilySerializer,
    InvitationInputSerializer,
    InvitationSerializer,
)


def _valid(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ChildrenView(GenericAPIView):
    serializer_class = ChildSerializer

    def get_queryset(self):
        return children_of(self.request.user).order_by("birth_date", "pk")

    @extend_schema(
        responses=ChildSerializer(many=True), tags=["family"], operation_id="family_children_list"
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ChildSerializer(page, many=True).data)

    @extend_schema(request=ChildInputSerializer, responses={201: ChildSerializer}, tags=["family"])
    def post(self, request):
        child = services.add_child(user=request.user, data=_valid(ChildInputSerializer, request))
        return Response(ChildSerializer(child).data, status=status.HTTP_201_CREATED)


class ChildDetailView(APIView):
    def _child(self, request, child_id):
        child = child_of(request.user, child_id)
        if child is None:
            raise NotFound("Enfant introuvable.")
        return child

    @extend_schema(responses=ChildSerializer, tags=["family"])
    def get(self, request, child_id: int):
        return Response(ChildSerializer(self._child(request, child_id)).data)

    @extend_schema(request=ChildInputSerializer, responses=ChildSerializer, tags=["family"])
    def patch(self, request, child_id: int):
        data = _valid(ChildInputSerializer, request, partial=True)
        child = services.update_child(user=request.user, child_id=child_id, data=data)
        return Response(ChildSerializer(child).data)

    @extend_schema(
        parameters=[OpenApiParameter("cancel_reservations", bool)],
        responses={204: None},
        tags=["family"],
        description="409 `child_has_future_reservations` unless `cancel_reservations=true`, "
        "which cancels (and refunds per each commune's rules) what can still be cancelled.",
    )
    def delete(self, request, child_id: int):
        confirm = request.query_params.get("cancel_reservations", "").lower() in {"1", "true"}
        services.remove_child(user=request.user, child_id=child_id, cancel_bookings=confirm)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationsView(APIView):
    @extend_schema(
        request=InvitationInputSerializer,
        responses={201: InvitationSerializer},
        tags=["family"],
        description="409 `invitation_already_sent` while an invitation to this address is "
        "still valid (nothing is sent again); 429 `throttled` beyond the family's or the "
        "address's daily invitations; 403 `email_not_verified` before the inviter's e-mail "
        "is confirmed.",
    )
    def post(self, request):
        invitation, _ = services.invite_guardian(
            user=request.user,
            email=_valid(InvitationInputSerializer, request)["email"],
            client_ip=client_ip(request),
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class AcceptInvitationView(APIView):
    @extend_schema(request=AcceptInvitationSerializer, responses=FamilySerializer, tags=["family"])
    def post(self, request):
        token = _valid(AcceptInvitationSerializer, request)["token"]
        family = services.accept_invitation(user=request.user, token=token)
        return Response({"family_id": family.pk})


class CalendarFeedView(APIView):
    """The secret address of the family's calendar feed (iCalendar, every commune's bookings)."""

    @extend_schema(
        responses=CalendarFeedSerializer,
        tags=["family"],
        operation_id="family_calendar_feed_retrieve",
        description="The address calendar applications subscribe to (no login: the secret in "
        "it is the credential). Made on first request, the same one afterwards.",
    )
    def get(self, request):
        token = services.calendar_feed_token(user=request.user)
        return Response(CalendarFeedSerializer(calendar_feed_urls(token)).data)

    @extend_schema(
        request=None,
        responses=CalendarFeedSerializer,
        tags=["family"],
        operation_id="family_calendar_feed_reset",
        description="Replace the secret: the previous address answers 404 at once. Returns the "
        "new address.",
    )
    def post(self, request):
        token = services.reset_calendar_feed_token(user=request.user)
        return Response(CalendarFeedSerializer(calendar_feed_urls(token)).data)


class BookingConsentSerializer(serializers.Serializer):
    """A commune the family deals with, and its standing consent for that commune's staff to
    book on the family's behalf (paid from the wallet; "Réservé par la mairie")."""

    commune_id = serializers.IntegerField()
    commune_slug = serializers.CharField(source="commune.slug")
    commune_name = serializers.CharField(source="commune.name")
    consent = serializers.SerializerMethodField()
    given_at = serializers.DateTimeField(source="booking_consent_at", allow_null=True)

    def get_consent(self, link) -> bool:
        return link.booking_consent_at is not None


class BookingConsentInputSerializer(serializers.Serializer):
    consent = serializers.BooleanField(help_text="true: give standing consent; false: revoke it.")


class BookingConsentsView(APIView):
    @extend_schema(
        responses=BookingConsentSerializer(many=True),
        tags=["family"],
        description="The communes the family deals with and, for each, whether it gave standing "
        "consent for the town hall's staff to book on its behalf.",
    )
    def get(self, request):
        links = commune_links_of(family_id_of(request.user))
        return Response(BookingConsentSerializer(links, many=True).data)


class BookingConsentView(APIView):
    @extend_schema(
        request=BookingConsentInputSerializer,
        responses=BookingConsentSerializer,
        tags=["family"],
        description="Give or revoke standing consent for one commune (404: a commune the "
        "family never dealt with). Audited.",
    )
    def put(self, request, commune_id: int):
        data = _valid(BookingConsentInputSerializer, request)
        link = services.set_booking_consent(
            user=request.user, commune_id=commune_id, given=data["consent"]
        )
        return Response(BookingConsentSerializer(link).data)
