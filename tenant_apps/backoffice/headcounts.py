"""Kitchen lists ("effectifs"): who eats or is looked after, per product, day, school class and
meal variant, with each child's name and the family's extra information flagged; and the month
forecast the kitchen orders from. Reads only; a constant number of queries whatever the number of
children (the reservations in one query with their child and variant joined).

Counting rule (the kitchen prepares every place that is taken): a reservation counts when its
status is one of `bookings.models.LIVE_STATUSES` — booked, attended (present) or absent (an
absence marked on the day does not give the meal back to the kitchen); a cancelled one never
counts. A place is counted under the meal variant stored on the reservation (the one the parent
or the agent chose): a child booked with "Panier repas PAI" is counted there, never as
"Standard". "Standard" is only a place booked without a variant.

Flags on a child's line come from the family's "information complémentaire" (`Child.notes`):
- any text: "Information complémentaire" (the text is shown in full beside the name);
- a mention of a PAI ("PAI", "P.A.I.", "projet d’accueil individualisé") or of an allergy or an
  intolerance ("allerg…", "intoléran…", "anaphyla…", "Epipen"/"Anapen"): the badge
  "PAI / allergie", in words, not a colour (a keyword match: "aucune allergie" raises it too, a
  false alarm the kitchen reads beside the text rather than a silent miss);
- such a child booked without a variant (standard meal): "À vérifier : repas standard", so the
  kitchen checks with the family or the town hall before serving.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count

from shared_apps.common.errors import NotFound
from shared_apps.common.exports import Sheet
from shared_apps.common.validation import InvalidInput, parse_id
from tenant_apps.bookings import rules
from tenant_apps.bookings.models import LIVE_STATUSES, Reservation
from tenant_apps.catalog.models import Closure, MealVariant, Product
from tenants.calendar import commune_calendar
from tenants.services import assert_on_schema

if TYPE_CHECKING:
    from tenants.models import Commune

# The statuses of a place the kitchen prepares (see the module's docstring).
COUNTED_STATUSES = LIVE_STATUSES
STANDARD = "Standard"
NO_CLASS = "Sans classe"
ALERT_LABEL = "PAI / allergie"
INFO_LABEL = "Information complémentaire"
CHECK_LABEL = "À vérifier : repas standard"

_PAI_RE = re.compile(r"\bp\.?\s?a\.?\s?i\b\.?|projet d.accueil individualis", re.IGNORECASE)
_ALLERGY_RE = re.compile(r"allerg|intol[ée]ran|anaphyla|[ée]pi-?pen|anapen", re.IGNORECASE)

# School classes in the order of a school (maternelle then élémentaire); others follow by name.
_CLASS_ORDER = ["TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]
# The longest forecast or list a request may ask for.
MAX_DAYS = 31


@dataclass(frozen=True)
class NoteFlags:
    """What the family's extra information says, for the kitchen."""

    has_info: bool
    pai: bool
    allergy: bool

    @property
    def alert(self) -> bool:
        return self.pai or self.allergy


def note_flags(notes: str | None) -> NoteFlags:
    """Flags of a child's "information complémentaire" (rule in the module's docstring)."""
    text = (notes or "").strip()
    return NoteFlags(
        has_info=bool(text), pai=bool(_PAI_RE.search(text)), allergy=bool(_ALLERGY_RE.search(text))
    )


def class_sort_key(school_class: str) -> tuple:
    """TPS, PS, MS, GS, CP, CE1, CE2, CM1, CM2 (a double level by its first), others by name,
    no class last."""
    if not school_class or school_class == NO_CLASS:
        return (2, "")
    head = re.split(r"[\s/\-–]+", school_class.strip().upper())[0]
    if head in _CLASS_ORDER:
        return (0, _CLASS_ORDER.index(head), school_class.upper())
    return (1, school_class.upper())


@dataclass
class ChildLine:
    """One child booked on a day (one place)."""

    child_id: int
    first_name: str
    last_name: str
    school_class: str
    notes: str
    status: str
    variant: str
    flags: NoteFlags

    @property
    def standard_despite_alert(self) -> bool:
        return self.flags.alert and self.variant == STANDARD

    @property
    def badges(self) -> list[str]:
        """The flags in words, for every format (page, PDF, XLSX, CSV)."""
        found = []
        if self.flags.alert:
            found.append(ALERT_LABEL)
        elif self.flags.has_info:
            found.append(INFO_LABEL)
        if self.standard_despite_alert:
            found.append(CHECK_LABEL)
        return found


@dataclass
class Group:
    """The children of one class eating one variant on one day."""

    school_class: str
    variant: str
    children: list[ChildLine] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.children)


@dataclass
class DayList:
    """One product on one day."""

    date: datetime.date
    closed_reason: str | None = None  # why the product is closed this day, None when open
    groups: list[Group] = field(default_factory=list)
    by_variant: Counter = field(default_factory=Counter)
    by_class: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_variant.values())

    @property
    def alerts(self) -> int:
        return sum(1 for g in self.groups for c in g.children if c.flags.alert)


@dataclass
class ProductList:
    """One product over the days asked: each day's groups, and the totals."""

    product_id: int
    name: str
    service_name: str
    days: list[DayList]
    variants: list[str]  # column order: Standard, then the product's variants by name
    classes: list[str]  # school order
    weekdays: list[int] = field(default_factory=list)  # the days of the week it runs on

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def by_variant(self) -> Counter:
        return sum((day.by_variant for day in self.days), Counter())

    @property
    def by_class(self) -> Counter:
        return sum((day.by_class for day in self.days), Counter())

    @property
    def variant_rows(self) -> list[tuple[str, list[int], int]]:
        """(variant, its count each day, its total) for a variant × day table."""
        return [
            (v, [day.by_variant[v] for day in self.days], self.by_variant[v]) for v in self.variants
        ]

    @property
    def class_rows(self) -> list[tuple[str, list[int], int]]:
        """(class, its count each day, its total) for a class × day table."""
        return [(c, [day.by_class[c] for day in self.days], self.by_class[c]) for c in self.classes]

    @property
    def day_totals(self) -> list[int]:
        return [day.total for day in self.days]


@dataclass
class Headcount:
    """The kitchen list for `days` (one day, or a week's opening days)."""

    start: datetime.date
    end: datetime.date
    days: list[datetime.date]
    products: list[ProductList]

    @property
    def total(self) -> int:
        return sum(p.total for p in self.products)

    @property
    def children_seen(self) -> int:
        """Places listed with a child's name (what the audit records)."""
        return self.total


# --- Reading the inputs ---------------------------------------------------------------------


def list_products() -> list[Product]:
    """Every product of the commune, for the choice of product: active ones first, by service
    and name (a product switched off may still have places booked)."""
    return list(
        Product.objects.select_related("service").order_by(
            "-is_active", "service__name", "name", "pk"
        )
    )


def chosen_product(raw: object, products: list[Product]) -> Product | None:
    """The product of the `produit` parameter among `products` (this commune's): None when the
    parameter is empty (every product). Raises InvalidInput (not a number) or NotFound (no
    such product in this commune: another commune's id is not ours to show)."""
    if raw in (None, ""):
        return None
    product_id = parse_id(raw)
    if product_id is None:
        raise InvalidInput(fields={"produit": ["Identifiant de prestation attendu."]})
    for product in products:
        if product.pk == product_id:
            return product
    raise NotFound("Prestation introuvable dans cette commune.")


def week_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The Monday and the Sunday of `day`'s week."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def month_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of `day`'s month."""
    last = pycalendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def parse_month(raw: object) -> datetime.date | None:
    """ "AAAA-MM" (or a day AAAA-MM-JJ) as the first of that month, years 2000 to 2100; None
    when it is not one."""
    if not isinstance(raw, str):
        return None
    match = re.fullmatch(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?\s*", raw)
    if not match:
        return None
    try:
        day = datetime.date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None
    return day.replace(day=1) if 2000 <= day.year <= 2100 else None


def _shown_products(
    product: Product | None, products: list[Product], booked_ids: set[int]
) -> list[Product]:
    if product is not None:
        return [product]
    return [p for p in products if (p.is_active and p.service.is_active) or p.pk in booked_ids]


def _availability(
    commune: Commune, products: Iterable[Product], start: datetime.date, end: datetime.date
) -> Callable[[Product, datetime.date], str | None]:
    """A function (product, day) → closed reason or None, from one query on closures."""
    calendar = commune_calendar(commune)
    closures: dict[int, dict[datetime.date, str]] = defaultdict(dict)
    service_ids = {p.service_id for p in products}
    for service_id, day, reason in Closure.objects.filter(
        service_id__in=service_ids, date__range=(start, end)
    ).values_list("service_id", "date", "reason"):
        closures[service_id][day] = reason

    def closed_reason(product: Product, day: datetime.date) -> str | None:
        available = rules.availability(
            day,
            weekdays=product.weekdays,
            opening_period=product.opening_period,
            calendar=calendar,
            closures=closures[product.service_id],
        )
        return None if available.open else available.reason

    return closed_reason


def _variants_of(products: list[Product]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    for product_id, name in MealVariant.objects.filter(product__in=products).values_list(
        "product_id", "name"
    ):
        names[product_id].append(name)
    return names


def _variant_columns(declared: list[str], seen: Iterable[str]) -> list[str]:
    """Standard first, then the product's variants by name, then any other seen."""
    ordered = [STANDARD, *sorted(v for v in declared if v != STANDARD)]
    return ordered + sorted(set(seen) - set(ordered))


# --- The lists ------------------------------------------------------------------------------


def kitchen_list(
    *,
    commune: Commune,
    start: datetime.date,
    end: datetime.date,
    products: list[Product],
    product: Product | None = None,
) -> Headcount:
    """Who is booked from `start` to `end` (inclusive, at most MAX_DAYS days), per product
    (`product` only, or every active product and every product with places), day, class and
    variant, children by class then name. Days listed: each day a shown product runs on (its
    weekdays; a closed one says why) and each day with places. 4 queries (reservations with
    children and variants joined, the products' variants, closures, nothing per child).

    Showing it is audited by the caller (`services.record_headcount_view`). Raises
    InvalidInput when the range is reversed or too long."""
    assert_on_schema(commune)
    if end < start or (end - start).days >= MAX_DAYS:
        raise InvalidInput("Période invalide : 31 jours au plus, du premier au dernier jour.")
    filters: dict[str, object] = {"date__range": (start, end), "status__in": COUNTED_STATUSES}
    if product is not None:
        filters["product"] = product
    reservations = list(
        Reservation.objects.filter(**filters)
        .select_related("child", "variant")
        .order_by("date", "child__last_name", "child__first_name", "child_id")
    )
    booked_ids = {r.product_id for r in reservations}
    shown = _shown_products(product, products, booked_ids)
    declared = _variants_of(shown)
    closed_reason = _availability(commune, shown, start, end)
    all_days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    booked_days = {(r.product_id, r.date) for r in reservations}
    weekdays = {d for p in shown for d in p.weekdays} or {0, 1, 2, 3, 4}
    # One day asked is shown whatever it is; a week shows the days the products run on.
    days = [
        d
        for d in all_days
        if start == end or d.weekday() in weekdays or any((p.pk, d) in booked_days for p in shown)
    ]

    lines: dict[tuple[int, datetime.date], list[ChildLine]] = defaultdict(list)
    for r in reservations:
        child = r.child
        lines[(r.product_id, r.date)].append(
            ChildLine(
                child_id=r.child_id,
                first_name=child.first_name,
                last_name=child.last_name,
                school_class=(child.school_class or "").strip() or NO_CLASS,
                notes=(child.notes or "").strip(),
                status=r.status,
                variant=r.variant.name if r.variant else STANDARD,
                flags=note_flags(child.notes),
            )
        )

    result = []
    for p in shown:
        day_lists = []
        for day in days:
            children = lines.get((p.pk, day), [])
            day_list = DayList(date=day, closed_reason=closed_reason(p, day))
            groups: dict[tuple[str, str], Group] = {}
            for line in children:
                key = (line.school_class, line.variant)
                groups.setdefault(key, Group(*key)).children.append(line)
                day_list.by_variant[line.variant] += 1
                day_list.by_class[line.school_class] += 1
            day_list.groups = sorted(
                groups.values(),
                key=lambda g: (class_sort_key(g.school_class), g.variant != STANDARD, g.variant),
            )
            day_lists.append(day_list)
        seen_variants = {v for d in day_lists for v in d.by_variant}
        classes = sorted({c for d in day_lists for c in d.by_class}, key=class_sort_key)
        result.append(
            ProductList(
                product_id=p.pk,
                name=p.name,
                service_name=p.service.name,
                days=day_lists,
                variants=_variant_columns(declared.get(p.pk, []), seen_variants),
                classes=classes,
                weekdays=list(p.weekdays),
            )
        )
    return Headcount(start=start, end=end, days=days, products=result)


@dataclass
class ForecastRow:
    date: datetime.date
    counts: list[int]  # per variant, in the product's column order
    closed_reason: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class ProductForecast:
    product_id: int
    name: str
    service_name: str
    variants: list[str]
    rows: list[ForecastRow]

    @property
    def totals(self) -> list[int]:
        return [sum(row.counts[i] for row in self.rows) for i in range(len(self.variants))]

    @property
    def total(self) -> int:
        return sum(self.totals)


@dataclass
class Forecast:
    """Places booked per product and day of a month, per variant: what the kitchen orders."""

    month: datetime.date  # the first of the month
    products: list[ProductForecast]

    @property
    def total(self) -> int:
        return sum(p.total for p in self.products)


def month_forecast(
    *,
    commune: Commune,
    month: datetime.date,
    products: list[Product],
    product: Product | None = None,
) -> Forecast:
    """The month of `month`: for each shown product, one row per day it is open (and per day
    with places even if closed since), the places per variant (counting rule of the module)
    and the totals. Counts only, no names: not audited. 3 queries (counts grouped by product,
    day and variant; variants; closures)."""
    assert_on_schema(commune)
    first, last = month_of(month)
    filters: dict[str, object] = {"date__range": (first, last), "status__in": COUNTED_STATUSES}
    if product is not None:
        filters["product"] = product
    counts: dict[tuple[int, datetime.date], Counter] = defaultdict(Counter)
    for product_id, day, variant_name, number in (
        Reservation.objects.filter(**filters)
        .values_list("product_id", "date", "variant__name")
        .annotate(number=Count("id"))
        .order_by()
    ):
        counts[(product_id, day)][variant_name or STANDARD] += number
    booked_ids = {product_id for product_id, _ in counts}
    shown = _shown_products(product, products, booked_ids)
    declared = _variants_of(shown)
    closed_reason = _availability(commune, shown, first, last)
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    result = []
    for p in shown:
        seen = {v for (pid, _), c in counts.items() if pid == p.pk for v in c}
        variants = _variant_columns(declared.get(p.pk, []), seen)
        rows = []
        for day in days:
            reason = closed_reason(p, day)
            booked = counts.get((p.pk, day))
            if reason is None or booked:
                rows.append(
                    ForecastRow(
                        date=day,
                        counts=[booked[v] if booked else 0 for v in variants],
                        closed_reason=reason,
                    )
                )
        result.append(
            ProductForecast(
                product_id=p.pk,
                name=p.name,
                service_name=p.service.name,
                variants=variants,
                rows=rows,
            )
        )
    return Forecast(month=first, products=result)


# --- Exports (same numbers as the pages: built from the same objects) ----------------------

STATUS_LABELS = {"booked": "Réservé", "attended": "Présent", "absent": "Absent"}


def totals_sheet(headcount: Headcount) -> Sheet:
    """Places per product, day and variant (every variant of the product, 0 included), with
    a total line per product and day."""
    rows: list[list] = []
    for product in headcount.products:
        for day in product.days:
            for variant in product.variants:
                rows.append([product.name, day.date, variant, day.by_variant[variant]])
            rows.append([product.name, day.date, "Total", day.total])
    return Sheet("Totaux", ["Prestation", "Jour", "Repas", "Nombre"], rows)


def classes_sheet(headcount: Headcount) -> Sheet:
    """Places per product, day, class and variant (the groups of the page)."""
    rows = [
        [product.name, day.date, group.school_class, group.variant, group.count]
        for product in headcount.products
        for day in product.days
        for group in day.groups
    ]
    return Sheet("Par classe", ["Prestation", "Jour", "Classe", "Repas", "Nombre"], rows)


def children_sheet(headcount: Headcount) -> Sheet:
    """One line per place: the child, its class and meal, the flags in words and the notes."""
    rows = [
        [
            product.name,
            day.date,
            group.school_class,
            group.variant,
            child.last_name,
            child.first_name,
            " ; ".join(child.badges),
            child.notes,
            STATUS_LABELS.get(child.status, child.status),
        ]
        for product in headcount.products
        for day in product.days
        for group in day.groups
        for child in group.children
    ]
    header = [
        "Prestation",
        "Jour",
        "Classe",
        "Repas",
        "Nom",
        "Prénom",
        "Signalement",
        "Information complémentaire",
        "Statut",
    ]
    return Sheet("Enfants", header, rows)


def list_sheets(headcount: Headcount) -> list[Sheet]:
    return [totals_sheet(headcount), classes_sheet(headcount), children_sheet(headcount)]


def forecast_sheet(forecast: Forecast) -> Sheet:
    """One row per product and day (a closed day with places says so), one column per variant
    of any product shown (empty where the product has no such variant), the day's total; a
    "Total du mois" row per product."""
    columns: list[str] = []
    for product in forecast.products:
        columns += [v for v in product.variants if v not in columns]
    rows: list[list] = []
    for product in forecast.products:
        for row in product.rows:
            by_variant = dict(zip(product.variants, row.counts, strict=True))
            rows.append(
                [product.name, row.date, row.closed_reason or ""]
                + [by_variant.get(v, "") for v in columns]
                + [row.total]
            )
        totals = dict(zip(product.variants, product.totals, strict=True))
        rows.append(
            [product.name, "Total du mois", ""]
            + [totals.get(v, "") for v in columns]
            + [product.total]
        )
    header = ["Prestation", "Jour", "Fermé", *columns, "Total"]
    return Sheet("Prévisions", header, rows)
