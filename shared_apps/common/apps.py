from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "shared_apps.common"
    label = "common"
    verbose_name = "Commun"

    def ready(self) -> None:
        # Log context (request id, commune, user id, task id) and Celery task metrics.
        from shared_apps.common import observability

        observability.install()
