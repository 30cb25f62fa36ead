from django.urls import path

from shared_apps.families import views

app_name = "families"

urlpatterns = [
    path("", views.children, name="children"),
    path("enfants/<int:child_id>/modifier/", views.edit_child, name="edit-child"),
    path("enfants/<int:child_id>/retirer/", views.remove_child, name="remove-child"),
    path("inviter/", views.invite, name="invite"),
    path("accord-mairie/", views.booking_consents, name="booking-consents"),
    path(
        "calendrier/nouvelle-adresse/",
        views.reset_calendar_feed,
        name="reset-calendar-feed",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept-invitation"),
]
