from django.urls import path

from tenant_apps.bookings import api

urlpatterns = [
    path("calendar", api.CalendarView.as_view(), name="api-calendar"),
    path("cart", api.CartView.as_view(), name="api-cart"),
    path("cart/items", api.CartItemsView.as_view(), name="api-cart-items"),
    path("cart/items/<int:item_id>", api.CartItemView.as_view(), name="api-cart-item"),
    path("cart/checkout", api.CheckoutView.as_view(), name="api-checkout"),
    path("reservations", api.ReservationsView.as_view(), name="api-reservations"),
    path("reservations/<int:reservation_id>/cancel", api.CancelView.as_view(), name="api-cancel"),
    path(
        "reservations/<int:reservation_id>/certificate",
        api.CertificateView.as_view(),
        name="api-reservation-certificate",
    ),
    path(
        "staff/reservations/<int:reservation_id>/certificate",
        api.StaffCertificateView.as_view(),
        name="api-staff-reservation-certificate",
    ),
    path("staff/attendance", api.AttendanceView.as_view(), name="api-staff-attendance"),
    path("staff/reservations", api.StaffReservationsView.as_view(), name="api-staff-reservations"),
]
