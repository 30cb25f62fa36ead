from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "tenant_apps.bookings"
    label = "bookings"
    verbose_name = "Réservations"
