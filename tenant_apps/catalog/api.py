"""Commune catalogue API: the services a family may ask for and book."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from tenant_apps.catalog.selectors import offered_services
from tenant_apps.catalog.serializers import ServiceSerializer


class ServicesView(APIView):
    """Active services with their active products, documents to provide and payment methods.

    A plain list (a commune offers a handful of services), in a constant number of queries.
    """

    @extend_schema(responses=ServiceSerializer(many=True), tags=["catalog"])
    def get(self, request):
        return Response(ServiceSerializer(offered_services(), many=True).data)
