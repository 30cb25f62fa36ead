from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shared_apps.jobs"
    label = "jobs"
    verbose_name = "Tâches planifiées"

    def ready(self) -> None:
        from shared_apps.jobs import recording

        recording.connect_signals()
