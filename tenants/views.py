"""The platform's home page: the communes open on it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.selectors import active_communes


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/home.html", {"communes": active_communes()})
