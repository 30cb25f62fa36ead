from django.urls import path

from tenant_apps.backoffice.views import counter

urlpatterns = [
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
]
