"""Read-only views of payments for operators: money moves only through services and webhooks."""

from django.contrib import admin

from shared_apps.payments.models import Payment, Refund, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "created_at",
        "family",
        "purpose",
        "amount_cents",
        "scope",
        "commune",
        "service_id",
        "status",
        "provider_ref",
    ]
    list_filter = ["status", "purpose", "scope", "provider"]
    search_fields = ["provider_ref", "family__id"]
    exclude = ["client_secret"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_id", "type", "payment", "processed_at"]
    list_filter = ["type", "provider"]
    search_fields = ["event_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "amount_cents", "status", "idempotency_key"]
    list_filter = ["status"]
    search_fields = ["idempotency_key", "provider_ref"]
