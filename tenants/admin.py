from django.contrib import admin

from tenants.models import Commune, Membership, StaffInvitation


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "insee_code", "holiday_zone", "is_active", "suspended_at"]
    # The place decides the calendar (tenants.calendar): fixed at creation. A suspension is
    # decided in the operators' console (/operateur/), where it is audited.
    readonly_fields = [
        "schema_name",
        "slug",
        "insee_code",
        "holiday_zone",
        "suspended_at",
        "suspension_reason",
    ]
    search_fields = ["name", "slug", "insee_code"]

    def has_add_permission(self, request):
        return False  # communes are opened with create_commune, which clones the template


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "commune", "role"]
    list_filter = ["role", "commune"]
    autocomplete_fields = ["user"]


@admin.register(StaffInvitation)
class StaffInvitationAdmin(admin.ModelAdmin):
    """Read-only: managers invite from their Gestion (Équipe); only the token's hash is kept."""

    list_display = ["email", "commune", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", "commune"]
    search_fields = ["email"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
