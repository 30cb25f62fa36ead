from django.contrib import admin

from shared_apps.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "actor",
        "commune",
        "action",
        "target_type",
        "target_id",
        "family_id",
    ]
    list_filter = ["action", "commune"]
    search_fields = ["target_id", "actor__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
