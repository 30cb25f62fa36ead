"""Payments API: start a wallet top-up by card, follow it, and receive Stripe's webhooks."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.payments import services
from shared_apps.payments.errors import TopUpNotFound
from shared_apps.payments.selectors import top_up_of
from shared_apps.payments.serializers import TopUpRequestSerializer, TopUpSerializer

ErrorSerializer = inline_serializer(
    "PaymentError",
    {
        "error": inline_serializer(
            "PaymentErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField()),
            },
        )
    },
)


class TopUpsView(APIView):
    @extend_schema(
        summary="Recharger le porte-monnaie par carte",
        description=(
            "Crée le paiement et renvoie de quoi le confirmer avec Stripe.js (Card Element, "
            "`confirmCardPayment`). Le porte-monnaie n’est crédité qu’à la réception de la "
            "notification signée de Stripe, jamais sur la foi du navigateur : suivez l’état "
            "avec GET `wallet/top-ups/{id}`. `scope` : `general` (tous les services, si la "
            "plateforme le propose) ou `service` avec `commune_slug` et `service_id` d’un "
            "service publié."
        ),
        request=TopUpRequestSerializer,
        responses={
            201: TopUpSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Montant, pocket ou service invalide"
            ),
            409: OpenApiResponse(ErrorSerializer, description="Crédit « tous services » fermé"),
            503: OpenApiResponse(ErrorSerializer, description="Paiement par carte indisponible"),
        },
        examples=[
            OpenApiExample(
                "Crédit d’un service",
                value={
                    "amount_cents": 2000,
                    "scope": "service",
                    "commune_slug": "baneins",
                    "service_id": 3,
                },
                request_only=True,
            )
        ],
        tags=["wallet"],
    )
    def post(self, request):
        serializer = TopUpRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.start_top_up(user=request.user, **serializer.validated_data)
        return Response(TopUpSerializer(payment).data, status=status.HTTP_201_CREATED)


class TopUpDetailView(APIView):
    @extend_schema(
        summary="État d’un rechargement",
        responses={200: TopUpSerializer, 404: OpenApiResponse(ErrorSerializer)},
        tags=["wallet"],
    )
    def get(self, request, payment_id: int):
        payment = top_up_of(request.user, payment_id)
        if payment is None:
            raise TopUpNotFound()
        return Response(TopUpSerializer(payment).data)


class StripeWebhookView(APIView):
    """Stripe calls this; the signature on the raw body is the only credential."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # no session, hence no CSRF check

    @extend_schema(
        summary="Notifications de Stripe (webhook)",
        description=(
            "Appelé par Stripe. La signature `Stripe-Signature` est vérifiée sur le corps brut "
            "(horodatage de moins de 5 minutes) ; chaque événement est enregistré une seule fois "
            "puis traité en tâche de fond."
        ),
        request=OpenApiTypes.OBJECT,
        responses={
            200: inline_serializer(
                "WebhookReceived",
                {"received": serializers.BooleanField(), "duplicate": serializers.BooleanField()},
            ),
            400: OpenApiResponse(ErrorSerializer, description="invalid_signature"),
        },
        auth=[],
        tags=["payments"],
    )
    def post(self, request):
        # request.body, never request.data: the signature covers the exact bytes received.
        _, created = services.receive_webhook(raw_body=request.body, headers=request.headers)
        return Response({"received": True, "duplicate": not created})
