"""Public directory API: the communes of the platform and the services they offer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.directory.selectors import communes_with_services
from shared_apps.directory.serializers import CommuneWithServicesSerializer


class CommunesView(APIView):
    """Open to everyone: it is the platform's public directory (no personal data)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CommuneWithServicesSerializer(many=True), tags=["directory"])
    def get(self, request):
        communes = communes_with_services()
        return Response(CommuneWithServicesSerializer(communes, many=True).data)
