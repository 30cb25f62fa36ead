from django.urls import path

from shared_apps.payments import views

app_name = "payments"

urlpatterns = [
    path("recharger/", views.top_up, name="top-up"),
    path("recharger/<int:payment_id>/", views.top_up_status, name="top-up-status"),
    path("recharger/<int:payment_id>/paiement/", views.pay, name="top-up-pay"),
]
