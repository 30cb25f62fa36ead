"""Account API: register, verify e-mail, token, password reset, profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts import api_tokens, services
from shared_apps.accounts.models import ApiToken
from shared_apps.accounts.serializers import (
    ApiTokenSerializer,
    ChangePasswordSerializer,
    DetailSerializer,
    EmailSerializer,
    LinkTokenSerializer,
    PasswordResetConfirmSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from shared_apps.common.client_ip import client_ip


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicAuthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []  # no session, so no CSRF: these take credentials in the body
    throttle_scope = "auth"


class RegisterView(PublicAuthView):
    @extend_schema(request=RegisterSerializer, responses={201: ProfileSerializer}, tags=["auth"])
    def post(self, request):
        user = services.register_user(
            **_valid(RegisterSerializer, request), client_ip=client_ip(request)
        )
        return Response(ProfileSerializer(user).data, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicAuthView):
    @extend_schema(request=LinkTokenSerializer, responses={200: DetailSerializer}, tags=["auth"])
    def post(self, request):
        services.verify_email(token=_valid(LinkTokenSerializer, request)["token"])
        return Response({"detail": "Adresse e-mail confirmée."})


class TokenView(PublicAuthView):
    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, tags=["auth"])
    def post(self, request):
        data = _valid(TokenRequestSerializer, request)
        # django-axes needs the Django request to count failures and lock out.
        user = services.authenticate_user(
            request._request, email=data["email"], password=data["password"]
        )
        device = data.get("device") or request.headers.get("User-Agent", "")
        return Response(_issued(api_tokens.issue(user, device=device)))


def _issued(issued: api_tokens.IssuedToken) -> dict:
    return {
        "token": issued.key,
        "token_id": issued.token.pk,
        "expires_at": issued.token.expires_at.isoformat(),
    }


def _current_token(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class LogoutView(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        tags=["auth"],
        description="Signs this device out: its token is revoked, the others keep working "
        "(a browser session is ended too).",
    )
    def post(self, request):
        token = _current_token(request)
        if token is not None:
            api_tokens.revoke(request.user, token.pk)
        else:
            from django.contrib.auth import logout

            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokensView(GenericAPIView):
    """The devices signed in to the API with this account (a page of them, newest first)."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return api_tokens.live_tokens_of(self.request.user)

    @extend_schema(responses=ApiTokenSerializer(many=True), tags=["auth"])
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        current = _current_token(request)
        rows = [
            {
                "id": t.pk,
                "device": t.device,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "expires_at": t.expires_at,
                "current": current is not None and t.pk == current.pk,
            }
            for t in page or []
        ]
        return self.get_paginated_response(ApiTokenSerializer(rows, many=True).data)


class TokenDetailView(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        tags=["auth"],
        description="Signs one device out. Another person's device is a 404.",
    )
    def delete(self, request, token_id: int):
        api_tokens.revoke(request.user, token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAuthView):
    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer}, tags=["auth"])
    def post(self, request):
        services.request_password_reset(
            email=_valid(EmailSerializer, request)["email"], client_ip=client_ip(request)
        )
        return Response(
            {"detail": "Si un compte existe pour cette adresse, un e-mail a été envoyé."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(PublicAuthView):
    @extend_schema(
        request=PasswordResetConfirmSerializer, responses={200: DetailSerializer}, tags=["auth"]
    )
    def post(self, request):
        services.reset_password(**_valid(PasswordResetConfirmSerializer, request))
        return Response({"detail": "Mot de passe changé."})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ProfileSerializer, tags=["account"])
    def get(self, request):
        return Response(ProfileSerializer(request.user).data)

    @extend_schema(request=ProfileUpdateSerializer, responses=ProfileSerializer, tags=["account"])
    def patch(self, request):
        data = _valid(ProfileUpdateSerializer, request)
        user = services.update_profile(user=request.user, data=data)
        return Response(ProfileSerializer(user).data)


class ChangePasswordView(APIView):
    @extend_schema(
        request=ChangePasswordSerializer,
        responses={200: TokenSerializer},
        tags=["account"],
        description="Every token is revoked; the answer carries this app's new token.",
    )
    def post(self, request):
        services.change_password(user=request.user, **_valid(ChangePasswordSerializer, request))
        current = _current_token(request)
        device = current.device if current else request.headers.get("User-Agent", "")
        return Response(
            {
                "detail": "Mot de passe changé.",
                **_issued(api_tokens.issue(request.user, device=device)),
            }
        )
