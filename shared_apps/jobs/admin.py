from django.contrib import admin

from shared_apps.jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Read only: runs are written by the Celery signals, never by hand."""

    list_display = ["started_at", "task_name", "commune", "status", "attempts", "error_class"]
    list_filter = ["status", "task_name", "commune"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
