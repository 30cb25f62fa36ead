"""The public (platform) API, under /api/v1/."""

from django.urls import include, path

from shared_apps.accounts import api as accounts_api
from shared_apps.families import api as families_api
from tenant_apps.bookings import api as bookings_api

urlpatterns = [
    path("", include("shared_apps.directory.api_urls")),
    path("", include("shared_apps.wallet.api_urls")),
    path("", include("shared_apps.payments.api_urls")),
    path("auth/register", accounts_api.RegisterView.as_view(), name="api-register"),
    path("auth/verify-email", accounts_api.VerifyEmailView.as_view(), name="api-verify-email"),
    path("auth/token", accounts_api.TokenView.as_view(), name="api-token"),
    path("auth/logout", accounts_api.LogoutView.as_view(), name="api-logout"),
    path("auth/tokens", accounts_api.TokensView.as_view(), name="api-tokens"),
    path(
        "auth/tokens/<int:token_id>",
        accounts_api.TokenDetailView.as_view(),
        name="api-token-detail",
    ),
    path(
        "auth/password-reset", accounts_api.PasswordResetView.as_view(), name="api-password-reset"
    ),
    path(
        "auth/password-reset/confirm",
        accounts_api.PasswordResetConfirmView.as_view(),
        name="api-password-reset-confirm",
    ),
    path("me", accounts_api.MeView.as_view(), name="api-me"),
    path(
        "reservations",
        bookings_api.ReservationsEverywhereView.as_view(),
        name="api-reservations-everywhere",
    ),
    path("me/password", accounts_api.ChangePasswordView.as_view(), name="api-change-password"),
    path("family/children", families_api.ChildrenView.as_view(), name="api-children"),
    path(
        "family/children/<int:child_id>", families_api.ChildDetailView.as_view(), name="api-child"
    ),
    path("family/invitations", families_api.InvitationsView.as_view(), name="api-invitations"),
    path(
        "family/calendar-feed",
        families_api.CalendarFeedView.as_view(),
        name="api-calendar-feed",
    ),
    path(
        "family/booking-consents",
        families_api.BookingConsentsView.as_view(),
        name="api-booking-consents",
    ),
    path(
        "family/booking-consents/<int:commune_id>",
        families_api.BookingConsentView.as_view(),
        name="api-booking-consent",
    ),
    path(
        "family/invitations/accept",
        families_api.AcceptInvitationView.as_view(),
        name="api-accept-invitation",
    ),
]
