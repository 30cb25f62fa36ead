from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from shared_apps.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_operator", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "phone", "address")}),
        ("Droits", {"fields": ("is_active", "is_operator", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined", "email_verified_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Operators see who is signed in on which device, and can revoke (never read) a token."""

    list_display = ["user", "device", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "device"]
    fields = ["user", "device", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = ["user", "device", "created_at", "last_used_at", "expires_at"]

    def has_add_permission(self, request) -> bool:
        return False
