from django.urls import path

from shared_apps.wallet import views

app_name = "wallet"

urlpatterns = [
    path("", views.home, name="home"),
    path("releve/", views.statement_page, name="statement"),
    path(
        "attestation-frais-de-garde/<int:year>/",
        views.childcare_attestation,
        name="childcare-attestation",
    ),
]
