"""Billing API of a commune for parents: the family's SEPA mandate. Thin: call one use case
with `request.tenant`, serialize."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.validation import parse_id
from shared_apps.families.selectors import family_id_of
from shared_apps.payments.api import ErrorSerializer
from shared_apps.payments.services import sepa_setup_config
from tenant_apps.billing import selectors
from tenant_apps.billing.errors import InvoiceNotFound
from tenant_apps.billing.serializers import (
    InvoiceDetailSerializer,
    InvoiceSerializer,
    MandateSerializer,
    MandateSetupSerializer,
)
from tenant_apps.billing.services.collection import invoice_states
from tenant_apps.billing.services.mandates import (
    own_mandate,
    revoke_mandate,
    start_mandate,
    sync_mandate,
)


class MandatesView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Mandates",
            {
                "active": MandateSerializer(allow_null=True),
                "history": MandateSerializer(many=True),
            },
        ),
        tags=["billing"],
        description="The family's SEPA mandate with this commune (at most one active) and "
        "the previous ones.",
    )
    def get(self, request):
        family_id = family_id_of(request.user)
        active = selectors.active_mandate(family_id)
        history = [m for m in selectors.mandates_of_family(family_id) if m != active]
        return Response(
            {
                "active": MandateSerializer(active).data if active else None,
                "history": MandateSerializer(history, many=True).data,
            }
        )

    @extend_schema(
        request=None,
        responses={
            201: MandateSetupSerializer,
            503: OpenApiResponse(
                ErrorSerializer, description="Prestataire de paiement injoignable"
            ),
        },
        tags=["billing"],
        description="Start setting up (or replacing) the mandate: confirm it with Stripe.js "
        "confirmSepaDebitSetup, then call …/mandates/{id}/sync. The active mandate stays until "
        "the new one is confirmed.",
    )
    def post(self, request):
        mandate = start_mandate(commune=request.tenant, user=request.user)
        config = sepa_setup_config(client_secret=mandate.client_secret)
        return Response(
            {
                "mandate": MandateSerializer(mandate).data,
                "client_secret": mandate.client_secret,
                "publishable_key": config.get("publishable_key", ""),
                "provider": mandate.provider,
            },
            status=status.HTTP_201_CREATED,
        )


class MandateSyncView(APIView):
    @extend_schema(
        request=None,
        responses=MandateSerializer,
        tags=["billing"],
        description="Ask the payment provider (server-side) where the set-up stands and record "
        "it: active, failed, or still pending.",
    )
    def post(self, request, mandate_id: int):
        mandate = own_mandate(user=request.user, mandate_id=mandate_id)
        mandate = sync_mandate(commune=request.tenant, mandate_id=mandate.pk)
        return Response(MandateSerializer(mandate).data)


class MandateRevokeView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer(
            "MandateRevoked",
            {"mandate": MandateSerializer(), "message": serializers.CharField()},
        ),
        tags=["billing"],
    )
    def post(self, request, mandate_id: int):
        mandate = revoke_mandate(commune=request.tenant, user=request.user, mandate_id=mandate_id)
        return Response(
            {
                "mandate": MandateSerializer(mandate).data,
                "message": "Mandat révoqué : la commune ne prélèvera plus votre compte.",
            }
        )


class InvoicesView(APIView):
    @extend_schema(
        responses=InvoiceSerializer(many=True),
        tags=["billing"],
        description="The family's monthly invoices with this commune, newest first (36 at most).",
    )
    def get(self, request):
        invoices = selectors.invoices_of_family(family_id_of(request.user))
        return Response(
            InvoiceSerializer(
                invoices, many=True, context={"states": invoice_states(invoices)}
            ).data
        )


class InvoiceView(APIView):
    @extend_schema(
        responses=InvoiceDetailSerializer,
        tags=["billing"],
        description="One invoice with its lines (per child, day and product; credits negative).",
    )
    def get(self, request, invoice_id: int):
        invoice = selectors.invoice_of_family(family_id_of(request.user), parse_id(invoice_id))
        if invoice is None:
            raise InvoiceNotFound()
        return Response(
            InvoiceDetailSerializer(invoice, context={"states": invoice_states([invoice])}).data
        )
