"""Keep the per-process commune cache honest when a commune changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.models import Commune
from tenants.selectors import forget_commune


@receiver([post_save, post_delete], sender=Commune)
def _forget_cached_commune(sender, instance: Commune, **kwargs) -> None:
    forget_commune(instance.slug)
