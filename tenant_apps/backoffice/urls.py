from django.urls import path

from tenant_apps.backoffice.views import counter, dashboard, staff

urlpatterns = [
    path("gestion/", dashboard.home, name="backoffice-home"),
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
    path("gestion/equipe/", staff.team, name="backoffice-staff"),
    path(
        "gestion/equipe/<int:membership_id>/role/",
        staff.change_role,
        name="backoffice-staff-role",
    ),
    path(
        "gestion/equipe/<int:membership_id>/retirer/",
        staff.remove,
        name="backoffice-staff-remove",
    ),
    path(
        "gestion/equipe/invitations/<int:invitation_id>/annuler/",
        staff.cancel_invitation,
        name="backoffice-staff-invitation-cancel",
    ),
    # The invitation link: for someone not yet on the staff, so outside gestion/.
    path("equipe/invitation/<str:token>/", staff.join, name="backoffice-staff-join"),
]
