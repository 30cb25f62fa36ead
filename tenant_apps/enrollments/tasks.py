"""E-mails about access requests, sent in the commune's schema named by the task."""

from __future__ import annotations

from config.celery import TenantTask, app
from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.notifications.email import send_templated_email
from tenant_apps.enrollments.models import AccessRequest
from tenants.models import Commune
from tenants.urls import commune_reverse


@app.task(base=TenantTask)
def send_decision_email_task(schema_name: str, request_id: int) -> None:
    access_request = (
        AccessRequest.objects.select_related("service", "info_document_type")
        .filter(pk=request_id)
        .first()
    )
    if access_request is None:
        return
    commune = Commune.objects.get(schema_name=schema_name)  # the task's commune, named
    link = absolute_url(
        commune_reverse(commune, "enrollments-request-detail", args=[access_request.pk])
    )
    children = [link.child for link in access_request.request_children.select_related("child")]
    emails = Guardian.objects.filter(family_id=access_request.family_id).values_list(
        "user__email", flat=True
    )
    for email in emails:
        send_templated_email(
            to=email,
            template=f"access_{access_request.status}",
            context={
                "request": access_request,
                "commune": commune,
                "children": children,
                "link": link,
            },
        )
