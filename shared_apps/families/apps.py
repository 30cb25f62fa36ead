from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    name = "shared_apps.families"
    label = "families"
    verbose_name = "Familles"
