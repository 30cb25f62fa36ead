from celery import shared_task
from django.urls import reverse

from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.notifications.email import send_templated_email
from shared_apps.wallet.models import Account
from shared_apps.wallet.selectors import pocket_labels


@shared_task
def send_low_balance_email_task(account_id: int, threshold_cents: int) -> None:
    account = Account.objects.select_related("wallet", "commune").filter(pk=account_id).first()
    if account is None or account.wallet is None or account.balance_cents >= threshold_cents:
        return  # topped up in the meantime: nothing to say
    label = pocket_labels([account]).get((account.commune_id, account.service_id), "votre service")
    emails = Guardian.objects.filter(family_id=account.wallet.family_id).values_list(
        "user__email", flat=True
    )
    for email in emails:
        send_templated_email(
            to=email,
            template="low_balance",
            context={
                "label": label,
                "balance_cents": account.balance_cents,
                "threshold_cents": threshold_cents,
                "link": absolute_url(reverse("wallet:home")),
            },
        )
