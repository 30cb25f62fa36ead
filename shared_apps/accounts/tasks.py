"""Account e-mails, sent after the transaction that asked for them commits."""

from celery import shared_task
from django.urls import reverse

from shared_apps.accounts.models import User
from shared_apps.accounts.tokens import (
    email_verification_tokens,
    make_link_token,
    password_reset_tokens,
)
from shared_apps.common.links import absolute_url
from shared_apps.notifications.email import send_templated_email


@shared_task
def send_verification_email_task(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, email_verified_at__isnull=True).first()
    if user is None:
        return  # already verified, or gone: nothing to send
    token = make_link_token(user, email_verification_tokens)
    send_templated_email(
        to=user.email,
        template="verify_email",
        context={"user": user, "link": absolute_url(reverse("accounts:verify", args=[token]))},
    )


@shared_task
def send_password_reset_email_task(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    token = make_link_token(user, password_reset_tokens)
    send_templated_email(
        to=user.email,
        template="password_reset",
        context={"user": user, "link": absolute_url(reverse("accounts:reset", args=[token]))},
    )
