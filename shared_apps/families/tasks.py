from celery import shared_task
from django.urls import reverse

from shared_apps.common.links import absolute_url
from shared_apps.families.models import Invitation
from shared_apps.notifications.email import plain_name, send_templated_email


@shared_task
def send_invitation_email_task(invitation_id: int, token: str) -> None:
    """Send the invitation: a fixed subject, and the inviter only by their registered name.

    The recipient never asked for this e-mail, so nothing the inviter typed reaches it except
    their name reduced to letters (`plain_name`), quoted.
    """
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
            "inviter_name": plain_name(invitation.invited_by.get_full_name())
            or "Un parent inscrit sur Marelle",
            "link": absolute_url(reverse("families:accept-invitation", args=[token])),
        },
    )
