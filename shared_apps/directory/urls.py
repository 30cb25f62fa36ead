from django.urls import path

from shared_apps.directory import views

urlpatterns = [
    path("", views.services, name="directory-services"),
]
