"""E-mails of the back-office, sent after commit by Celery."""

from celery import shared_task

from shared_apps.common.links import absolute_url
from shared_apps.notifications.email import plain_name, send_templated_email
from tenants.models import StaffInvitation
from tenants.urls import commune_reverse


@shared_task
def send_staff_invitation_email_task(invitation_id: int, token: str) -> None:
    """Send a staff invitation: a fixed text naming the commune, the role and the inviter.

    The inviter appears only by their registered name reduced to letters (`plain_name`); the
    link carries the one-time token (only its hash is stored). An invitation used or withdrawn
    before the task runs sends nothing.
    """
    invitation = (
        StaffInvitation.objects.select_related("commune", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, cancelled_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    inviter = invitation.invited_by
    send_templated_email(
        to=invitation.email,
        template="staff_invitation",
        context={
            "invitation": invitation,
            "commune": invitation.commune,
            "role": invitation.get_role_display().lower(),
            "inviter_name": plain_name(inviter.get_full_name()) if inviter else "",
            "link": absolute_url(
                commune_reverse(invitation.commune, "backoffice-staff-join", args=[token])
            ),
        },
    )
