from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>`, as API.md says (DRF's default keyword is "Token")."""

    keyword = "Bearer"
