from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "shared_apps.directory"
    label = "directory"
    verbose_name = "Annuaire des services"
