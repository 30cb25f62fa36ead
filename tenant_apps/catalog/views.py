from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.catalog.selectors import active_services


def commune_home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/commune_home.html", {"services": active_services()})
