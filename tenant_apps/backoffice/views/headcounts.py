"""Kitchen lists ("effectifs") for staff: the day's or the week's list per product, class and
meal variant with the children's names (page, printable page, PDF, XLSX, CSV), and the month
forecast the kitchen orders from (page, XLSX, CSV). Every showing is audited. The reads and the
counting rule are in `tenant_apps.backoffice.headcounts`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_safe

from shared_apps.common import exports
from shared_apps.common.errors import NotFound
from shared_apps.common.validation import FieldErrors, InvalidInput, parse_date
from tenant_apps.backoffice import headcounts
from tenant_apps.backoffice.services import record_forecast_view, record_headcount_view
from tenant_apps.catalog.models import Product
from tenants.permissions import staff_required

VIEWS = {"jour": "Un jour", "semaine": "La semaine"}
DATE_ERROR = "Date attendue au format AAAA-MM-JJ (années 2000 à 2100)."
MONTH_ERROR = "Mois attendu au format AAAA-MM (années 2000 à 2100)."


@dataclass
class ListQuery:
    """What the list's GET form asked: a day, the day or its week, one product or all."""

    day: datetime.date
    view: str  # jour | semaine
    product: Product | None

    @property
    def start(self) -> datetime.date:
        return headcounts.week_of(self.day)[0] if self.view == "semaine" else self.day

    @property
    def end(self) -> datetime.date:
        return headcounts.week_of(self.day)[1] if self.view == "semaine" else self.day

    def params(self, **changes) -> str:
        values = {
            "vue": self.view,
            "date": self.day.isoformat(),
            "produit": self.product.pk if self.product else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _read_list_query(params, products: list[Product]) -> ListQuery:
    """The form's values; raises InvalidInput (French, per field) or NotFound (a product that
    is not this commune's)."""
    errors = FieldErrors()
    raw_day = params.get("date", "")
    day = parse_date(raw_day) if raw_day else timezone.localdate()
    if day is None:
        errors.add("date", DATE_ERROR)
    view = params.get("vue") or "jour"
    if view not in VIEWS:
        errors.add("vue", "Choisissez « Un jour » ou « La semaine ».")
    product = None
    try:
        product = headcounts.chosen_product(params.get("produit"), products)
    except InvalidInput as exc:
        for field, messages in exc.fields.items():
            for message in messages:
                errors.add(field, message)
    errors.raise_if_any("La liste demandée n’est pas valide : corrigez le formulaire.")
    assert day is not None
    return ListQuery(day=day, view=view, product=product)


def _step(query: ListQuery, result: headcounts.Headcount, direction: int) -> datetime.date:
    """The previous (-1) or next (+1) day the products run on, or the week before/after."""
    if query.view == "semaine":
        return query.start + datetime.timedelta(days=7 * direction)
    weekdays = {d for p in result.products for d in p.weekdays} or {0, 1, 2, 3, 4}
    day = query.day
    for _ in range(7):
        day += datetime.timedelta(days=direction)
        if day.weekday() in weekdays:
            break
    return day


def _title(query: ListQuery) -> str:
    if query.view == "semaine":
        start, end = query.start, query.start + datetime.timedelta(days=4)
        return f"Effectifs de la semaine du {_long(start)} au {_long(end)}"
    return f"Effectifs du {date_format(query.day, 'l')} {_long(query.day)}"


def _long(day: datetime.date) -> str:
    """ "1er décembre 2026", "7 décembre 2026"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {date_format(day, 'F Y')}"


def _load(request: HttpRequest):
    """(query, products, result) for a list request; Http404 for another commune's product;
    InvalidInput for a bad form (the caller shows it)."""
    products = headcounts.list_products()
    try:
        query = _read_list_query(request.GET, products)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    result = headcounts.kitchen_list(
        commune=request.tenant,
        start=query.start,
        end=query.end,
        products=products,
        product=query.product,
    )
    return query, products, result


def _audit(request: HttpRequest, query: ListQuery, result: headcounts.Headcount, output: str):
    record_headcount_view(
        viewed_by=request.user,
        commune=request.tenant,
        day=query.start,
        until=query.end,
        children=result.children_seen,
        product_id=query.product.pk if query.product else None,
        output=output,
    )


def _context(query: ListQuery, products: list[Product], result: headcounts.Headcount) -> dict:
    return {
        "query": query,
        "products": products,
        "headcount": result,
        "title": _title(query),
        "views": VIEWS,
        "previous": query.params(date=_step(query, result, -1).isoformat()),
        "following": query.params(date=_step(query, result, +1).isoformat()),
        "today": query.params(date=timezone.localdate().isoformat()),
        "here": query.params(),
        "alert_label": headcounts.ALERT_LABEL,
        "info_label": headcounts.INFO_LABEL,
        "check_label": headcounts.CHECK_LABEL,
        "alerts": sum(day.alerts for p in result.products for day in p.days),
    }


def _invalid(request: HttpRequest, template: str, exc: InvalidInput, extra: dict) -> HttpResponse:
    return render(
        request,
        template,
        {"errors": exc, "products": headcounts.list_products(), "views": VIEWS, **extra},
        status=400,
    )


@require_safe
@staff_required
def headcount(request: HttpRequest) -> HttpResponse:
    """The kitchen list: a day or a week, one product or all (GET form), with its exports."""
    try:
        query, products, result = _load(request)
    except InvalidInput as exc:
        return _invalid(
            request, "backoffice/headcount.html", exc, {"raw": request.GET, "title": "Effectifs"}
        )
    _audit(request, query, result, "page")
    return render(request, "backoffice/headcount.html", _context(query, products, result))


@require_safe
@staff_required
def headcount_print(request: HttpRequest) -> HttpResponse:
    """The same list to print: no menus, one product per page, large type."""
    try:
        query, products, result = _load(request)
    except InvalidInput as exc:
        return _invalid(
            request, "backoffice/headcount.html", exc, {"raw": request.GET, "title": "Effectifs"}
        )
    _audit(request, query, result, "print")
    return render(request, "backoffice/headcount_print.html", _context(query, products, result))


def _filename(query: ListQuery, extension: str) -> str:
    scope = f"semaine-{query.start.isoformat()}" if query.view == "semaine" else query.day
    product = f"-prestation-{query.product.pk}" if query.product else ""
    return f"effectifs-{scope}{product}.{extension}"


@require_safe
@staff_required
def headcount_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The list as a PDF, an XLSX workbook (totals, per class, children) or a CSV (children)."""
    try:
        query, products, result = _load(request)
    except InvalidInput as exc:
        return _invalid(
            request, "backoffice/headcount.html", exc, {"raw": request.GET, "title": "Effectifs"}
        )
    _audit(request, query, result, fmt)
    if fmt == "pdf":
        return exports.pdf_response(
            _filename(query, "pdf"),
            "backoffice/headcount_pdf.html",
            _context(query, products, result),
            request,
        )
    if fmt == "xlsx":
        return exports.xlsx_response(_filename(query, "xlsx"), headcounts.list_sheets(result))
    return exports.csv_response(_filename(query, "csv"), headcounts.children_sheet(result))


# --- Month forecast -------------------------------------------------------------------------


def _load_forecast(request: HttpRequest):
    products = headcounts.list_products()
    errors = FieldErrors()
    raw_month = request.GET.get("mois", "")
    month = headcounts.parse_month(raw_month) if raw_month else timezone.localdate().replace(day=1)
    if month is None:
        errors.add("mois", MONTH_ERROR)
    product = None
    try:
        product = headcounts.chosen_product(request.GET.get("produit"), products)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except InvalidInput as exc:
        for field, messages in exc.fields.items():
            for message in messages:
                errors.add(field, message)
    errors.raise_if_any("Les prévisions demandées ne sont pas valides : corrigez le formulaire.")
    assert month is not None
    forecast = headcounts.month_forecast(
        commune=request.tenant, month=month, products=products, product=product
    )
    return month, product, products, forecast


def _month_params(month: datetime.date, product: Product | None) -> str:
    values = {"mois": month.strftime("%Y-%m")}
    if product:
        values["produit"] = str(product.pk)
    return urlencode(values)


def _forecast_context(month, product, products, forecast) -> dict:
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=31)).replace(day=1)
    return {
        "month": month,
        "product": product,
        "products": products,
        "forecast": forecast,
        "title": f"Prévisions de {date_format(month, 'F Y')}",
        "previous": _month_params(previous, product),
        "following": _month_params(following, product),
        "here": _month_params(month, product),
    }


def _recorded_forecast(request: HttpRequest, output: str) -> tuple | HttpResponse:
    """The month forecast asked for, its showing audited; or the page saying what is wrong
    (400, nothing audited)."""
    try:
        month, product, products, result = _load_forecast(request)
    except InvalidInput as exc:
        return _invalid(
            request,
            "backoffice/headcount_forecast.html",
            exc,
            {"raw": request.GET, "title": "Prévisions du mois"},
        )
    record_forecast_view(
        viewed_by=request.user,
        commune=request.tenant,
        month=month,
        product_id=product.pk if product else None,
        output=output,
    )
    return month, product, products, result


@require_safe
@staff_required
def forecast(request: HttpRequest) -> HttpResponse:
    """Places booked per product and day of a month, per meal variant, with totals."""
    loaded = _recorded_forecast(request, "page")
    if isinstance(loaded, HttpResponse):
        return loaded
    return render(request, "backoffice/headcount_forecast.html", _forecast_context(*loaded))


@require_safe
@staff_required
def forecast_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The month forecast as XLSX or CSV (one row per product and day, one column per variant)."""
    loaded = _recorded_forecast(request, fmt)
    if isinstance(loaded, HttpResponse):
        return loaded
    month, product, _products, result = loaded
    sheet = headcounts.forecast_sheet(result)
    name = f"previsions-{month.strftime('%Y-%m')}{f'-prestation-{product.pk}' if product else ''}"
    if fmt == "xlsx":
        return exports.xlsx_response(f"{name}.xlsx", [sheet])
    return exports.csv_response(f"{name}.csv", sheet)
