from django.urls import path

from tenant_apps.catalog import views

urlpatterns = [
    path("", views.commune_home, name="commune-home"),
]
