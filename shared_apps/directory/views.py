"""Public page "Mes services": every commune's services, to ask for access (guide, step 3)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shared_apps.directory.selectors import (
    access_request_url,
    communes_with_services,
    request_states_of,
)


def services(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("commune", "")[:120]
    communes = list(communes_with_services(search=search))
    states = request_states_of(request.user)
    for commune in communes:
        for listing in commune.listed_services:
            listing.request_url = access_request_url(commune.slug, listing.service_id)
            listing.request_status, listing.request_state = states.get(
                (commune.pk, listing.service_id), ("", "")
            )
    return render(request, "directory/services.html", {"communes": communes, "search": search})
