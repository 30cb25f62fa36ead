from django.urls import path

from shared_apps.wallet import views

app_name = "wallet"

urlpatterns = [
    path("", views.home, name="home"),
]
