"""Wallet API: the family's total and pockets, and its movements."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.families.selectors import family_id_of
from shared_apps.wallet.selectors import history_of, pockets_of


class PocketSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["general", "service"])
    commune_slug = serializers.CharField(allow_null=True)
    service_id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()
    balance_cents = serializers.IntegerField()


class MovementSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    created_at = serializers.DateTimeField(source="transaction.created_at")
    kind = serializers.CharField(source="transaction.kind")
    description = serializers.CharField(source="transaction.description")
    amount_cents = serializers.IntegerField()
    pocket = serializers.SerializerMethodField()
    commune_slug = serializers.SerializerMethodField()
    service_id = serializers.IntegerField(source="account.service_id", allow_null=True)

    def get_pocket(self, posting) -> str:
        return "service" if posting.account.service_id else "general"

    def get_commune_slug(self, posting) -> str | None:
        return posting.account.commune.slug if posting.account.commune_id else None


class WalletView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Wallet",
            {"total_cents": serializers.IntegerField(), "pockets": PocketSerializer(many=True)},
        ),
        tags=["wallet"],
    )
    def get(self, request):
        pockets = pockets_of(family_id_of(request.user))
        return Response(
            {
                "total_cents": sum(p.balance_cents for p in pockets),
                "pockets": PocketSerializer(pockets, many=True).data,
            }
        )


class TransactionsView(GenericAPIView):
    serializer_class = MovementSerializer

    @extend_schema(responses=MovementSerializer(many=True), tags=["wallet"])
    def get(self, request):
        page = self.paginate_queryset(history_of(family_id_of(request.user)))
        return self.get_paginated_response(MovementSerializer(page, many=True).data)
