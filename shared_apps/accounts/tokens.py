"""Single-use, expiring links for e-mail verification and password reset.

Both build on Django's PasswordResetTokenGenerator: the token hashes state that changes once the
link is used (the password for a reset, the verification date for a verification), so a used
link stops working, and it carries its own timestamp (PASSWORD_RESET_TIMEOUT).
"""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from shared_apps.accounts.models import User


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "marelle.accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


password_reset_tokens = PasswordResetTokenGenerator()
email_verification_tokens = EmailVerificationTokenGenerator()


def make_link_token(user: User, generator: PasswordResetTokenGenerator) -> str:
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{generator.make_token(user)}"


def user_for_link_token(token: str, generator: PasswordResetTokenGenerator) -> User | None:
    """The user a valid, unused, unexpired token was made for; None otherwise."""
    uidb64, _, raw = (token or "").partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not generator.check_token(user, raw):
        return None
    return user
