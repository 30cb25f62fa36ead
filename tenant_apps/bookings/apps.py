from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "tenant_apps.bookings"
    label = "bookings"
    verbose_name = "Réservations"

    def ready(self) -> None:
        from tenant_apps.bookings import signals  # noqa: F401 (connects the receivers)
