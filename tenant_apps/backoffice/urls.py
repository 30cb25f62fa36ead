from django.urls import path

from tenant_apps.backoffice.views import counter, families

urlpatterns = [
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
    path("gestion/familles/", families.family_list, name="backoffice-families"),
    path("gestion/familles/<int:family_id>/", families.family_detail, name="backoffice-family"),
    path(
        "gestion/familles/<int:family_id>/reserver/",
        families.family_book,
        name="backoffice-family-book",
    ),
    # The former address of "Réserver pour une famille", kept (bookmarks, the guide).
    path("gestion/reserver-pour/", families.book_any_family, name="bookings-on-behalf"),
]
