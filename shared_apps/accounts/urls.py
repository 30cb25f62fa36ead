from django.urls import path

from shared_apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("acces/", views.start, name="login"),
    path("espaces/", views.spaces, name="spaces"),
    path("connexion/", views.password_step, name="password"),
    path("inscription/", views.register, name="register"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("verifier/renvoyer/", views.resend_verification, name="resend-verification"),
    path("verifier/<str:token>/", views.verify, name="verify"),
    path("mot-de-passe-oublie/", views.forgot_password, name="forgot"),
    path("mot-de-passe/nouveau/<str:token>/", views.reset_password, name="reset"),
    path("mot-de-passe/", views.change_password, name="change-password"),
]
