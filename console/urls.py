from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.communes, name="communes"),
    path("communes/nouvelle/", views.open_commune, name="open"),
    path("communes/<int:commune_id>/", views.commune, name="commune"),
    path("communes/<int:commune_id>/suspendre/", views.suspend, name="suspend"),
    path("communes/<int:commune_id>/reprendre/", views.resume, name="resume"),
    path("communes/<int:commune_id>/credit-general/", views.general_credit, name="general-credit"),
    path("communes/<int:commune_id>/actualiser/", views.refresh, name="refresh"),
    path("flux/", views.money_flows, name="money"),
]
