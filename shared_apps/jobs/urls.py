from django.urls import path

from shared_apps.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.runs, name="runs"),
]
