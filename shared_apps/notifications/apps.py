from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "shared_apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"
