from django.urls import path

from shared_apps.payments import api

urlpatterns = [
    path("wallet/top-ups", api.TopUpsView.as_view(), name="api-top-ups"),
    path("wallet/top-ups/<int:payment_id>", api.TopUpDetailView.as_view(), name="api-top-up"),
    path("payments/stripe/webhook", api.StripeWebhookView.as_view(), name="api-stripe-webhook"),
]
