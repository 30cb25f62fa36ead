from django.contrib import admin

from tenants.models import Commune, Membership


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "insee_code", "holiday_zone", "is_active"]
    # The place decides the calendar (tenants.calendar): fixed at creation.
    readonly_fields = ["schema_name", "slug", "insee_code", "holiday_zone"]
    search_fields = ["name", "slug", "insee_code"]

    def has_add_permission(self, request):
        return False  # communes are opened with create_commune, which clones the template


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "commune", "role"]
    list_filter = ["role", "commune"]
    autocomplete_fields = ["user"]
