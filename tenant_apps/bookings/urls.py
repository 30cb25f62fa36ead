from django.urls import path

from tenant_apps.bookings import certificate_views, views

urlpatterns = [
    path("reserver/", views.menu, name="bookings-menu"),
    path("reserver/<int:product_id>/", views.product_page, name="bookings-product"),
    path("reserver/<int:product_id>/ajouter/", views.add_days, name="bookings-add"),
    path("panier/", views.cart, name="bookings-cart"),
    path("panier/<int:item_id>/retirer/", views.remove_item, name="bookings-remove-item"),
    path("panier/payer/", views.checkout, name="bookings-checkout"),
    path("panier/commande/<int:order_id>/", views.order_status, name="bookings-order"),
    path("panier/commande/<int:order_id>/carte/", views.card_pay, name="bookings-card-pay"),
    path("mes-reservations/", views.my_reservations, name="bookings-mine"),
    path("mes-reservations/<int:reservation_id>/annuler/", views.cancel, name="bookings-cancel"),
    path(
        "mes-reservations/<int:reservation_id>/certificat/",
        certificate_views.certificate,
        name="bookings-certificate",
    ),
    path(
        "mes-reservations/certificats/<int:certificate_id>/",
        certificate_views.certificate_file,
        name="bookings-certificate-file",
    ),
]
