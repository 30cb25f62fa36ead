from django.urls import path

from tenant_apps.backoffice import views

urlpatterns = [
    path("gestion/versements/", views.counter_credit, name="backoffice-counter-credit"),
]
