"""Account API: register, verify e-mail, token, password reset, profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts import services
from shared_apps.accounts.serializers import (
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
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
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
        token = Token.objects.create(user=request.user)
        return Response({"detail": "Mot de passe changé.", "token": token.key})
