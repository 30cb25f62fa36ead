from django.urls import path

from shared_apps.directory import api

urlpatterns = [
    path("communes", api.CommunesView.as_view(), name="api-communes"),
]
