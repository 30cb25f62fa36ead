"""`Authorization: Bearer <token>`, as API.md says: a per-device token (shared_apps.accounts
.api_tokens); an expired or revoked one is a 401 with its own stable code."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from shared_apps.accounts import api_tokens


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed()
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed() from None
        token = api_tokens.authenticate(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed()
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema names it (as DRF's TokenAuthentication was: `tokenAuth`)."""

    target_class = BearerTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="AUTHORIZATION", token_prefix=BearerTokenAuthentication.keyword
        )
