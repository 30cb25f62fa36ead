from celery import shared_task
from django.urls import reverse

from shared_apps.common.links import absolute_url
from shared_apps.families.models import Invitation
from shared_apps.notifications.email import send_templated_email


@shared_task
def send_invitation_email_task(invitation_id: int, token: str) -> None:
    invitation = (
        Invitation.objects.select_related("invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    send_templated_email(
        to=invitation.email,
        template="family_invitation",
        context={
            "invitation": invitation,
            "inviter": invitation.invited_by,
            "link": absolute_url(reverse("families:accept-invitation", args=[token])),
        },
    )
