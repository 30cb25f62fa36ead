"""Keep every process's commune cache honest when a commune changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.models import Commune
from tenants.selectors import bump_routing_version, forget_commune


@receiver([post_save, post_delete], sender=Commune)
def _forget_cached_commune(sender, instance: Commune, **kwargs) -> None:
    # The new version invalidates every slug in every process, the old one after a rename too.
    forget_commune(instance.slug)
    bump_routing_version()
