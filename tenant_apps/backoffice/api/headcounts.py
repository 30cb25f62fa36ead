"""Staff API: the kitchen lists (effectifs)."""

from __future__ import annotations

import datetime
import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.validation import (
    FieldErrors,
    InvalidInput,
    date_param,
    in_our_years,
)
from tenant_apps.backoffice import headcounts, services
from tenants.permissions import IsCommuneStaff

# --- Kitchen lists --------------------------------------------------------------------------


class HeadcountChildSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    school_class = serializers.CharField(help_text="As the family typed it; may be empty.")
    notes = serializers.CharField(help_text="The family's extra information (may be empty).")
    status = serializers.ChoiceField(choices=["booked", "attended", "absent"])
    variant = serializers.CharField(help_text="Meal variant; empty: standard.")
    pai = serializers.BooleanField(help_text="The notes mention a PAI.")
    allergy = serializers.BooleanField(help_text="The notes mention an allergy.")
    badges = serializers.ListField(child=serializers.CharField(), help_text="Flags in words.")


class HeadcountGroupSerializer(serializers.Serializer):
    date = serializers.DateField()
    school_class = serializers.CharField(help_text="Empty: no class given.")
    variant = serializers.CharField(help_text="Empty: standard meal.")
    count = serializers.IntegerField()
    children = HeadcountChildSerializer(many=True)


class HeadcountDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    closed_reason = serializers.CharField(allow_null=True, help_text="Null: open that day.")
    total = serializers.IntegerField()
    by_variant = serializers.DictField(child=serializers.IntegerField())
    by_class = serializers.DictField(child=serializers.IntegerField())


class HeadcountProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product = serializers.CharField()
    service = serializers.CharField()
    total = serializers.IntegerField()
    by_variant = serializers.DictField(child=serializers.IntegerField())
    by_class = serializers.DictField(child=serializers.IntegerField())
    days = HeadcountDaySerializer(many=True)
    groups = HeadcountGroupSerializer(many=True)


HEADCOUNT_RESPONSE = inline_serializer(
    "Headcount",
    {
        "date": serializers.DateField(help_text="The first day (the day asked with `date`)."),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "days": serializers.ListField(child=serializers.DateField()),
        "total": serializers.IntegerField(),
        "products": HeadcountProductSerializer(many=True),
    },
)


def _week(raw: str) -> tuple[datetime.date, datetime.date]:
    """`week`: an ISO week (2026-W49) or any day of it (AAAA-MM-JJ) → its Monday and Sunday."""
    match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", raw.strip(), re.IGNORECASE)
    try:
        if match:
            day = datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        else:
            day = datetime.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidInput(
            fields={"week": ["Semaine attendue : AAAA-Wnn (2026-W49) ou un jour AAAA-MM-JJ."]}
        ) from exc
    if not in_our_years(day):
        raise InvalidInput(fields={"week": ["Date hors calendrier (années 2000 à 2100)."]})
    return headcounts.week_of(day)


def _period(params) -> tuple[datetime.date, datetime.date]:
    """The days asked: `from` and `to` (inclusive), or `week`, or `date`."""
    if params.get("from") or params.get("to"):
        errors = FieldErrors()
        start = end = None
        for name in ("from", "to"):
            try:
                value = date_param(params, name)
            except InvalidInput as exc:
                for message in exc.fields.get(name, []):
                    errors.add(name, message)
            else:
                start, end = (value, end) if name == "from" else (start, value)
        errors.raise_if_any()
        assert start is not None and end is not None
        if end < start or (end - start).days >= headcounts.MAX_DAYS:
            raise InvalidInput(
                fields={"to": ["Du premier au dernier jour, 31 jours au plus."]},
            )
        return start, end
    if params.get("week"):
        return _week(params["week"])
    day = date_param(params, "date")
    assert day is not None
    return day, day


def _child_json(child: headcounts.ChildLine) -> dict:
    return {
        "id": child.child_id,
        "first_name": child.first_name,
        "last_name": child.last_name,
        "school_class": "" if child.school_class == headcounts.NO_CLASS else child.school_class,
        "notes": child.notes,
        "status": child.status,
        "variant": "" if child.variant == headcounts.STANDARD else child.variant,
        "pai": child.flags.pai,
        "allergy": child.flags.allergy,
        "badges": child.badges,
    }


def headcount_json(result: headcounts.Headcount) -> dict:
    """The kitchen list as the API shows it (fields of API.md kept: date, total, products with
    product_id, product, total and groups of school_class, variant, count and children)."""
    products = []
    for product in result.products:
        groups = [
            {
                "date": day.date,
                "school_class": ""
                if group.school_class == headcounts.NO_CLASS
                else group.school_class,
                "variant": "" if group.variant == headcounts.STANDARD else group.variant,
                "count": group.count,
                "children": [_child_json(child) for child in group.children],
            }
            for day in product.days
            for group in day.groups
        ]
        products.append(
            {
                "product_id": product.product_id,
                "product": product.name,
                "service": product.service_name,
                "total": product.total,
                "by_variant": dict(product.by_variant),
                "by_class": dict(product.by_class),
                "days": [
                    {
                        "date": day.date,
                        "closed_reason": day.closed_reason,
                        "total": day.total,
                        "by_variant": dict(day.by_variant),
                        "by_class": dict(day.by_class),
                    }
                    for day in product.days
                ],
                "groups": groups,
            }
        )
    return {
        "date": result.start,
        "from": result.start,
        "to": result.end,
        "days": result.days,
        "total": result.total,
        "products": products,
    }


class HeadcountView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date", datetime.date, description="One day (required without week/from/to)."
            ),
            OpenApiParameter(
                "week", str, description="A week: ISO (2026-W49) or any day of it (AAAA-MM-JJ)."
            ),
            OpenApiParameter("from", datetime.date, description="First day (with `to`)."),
            OpenApiParameter("to", datetime.date, description="Last day, 31 days at most."),
            OpenApiParameter(
                "product_id", int, description="One product only (404 if not this commune's)."
            ),
        ],
        responses=HEADCOUNT_RESPONSE,
        tags=["staff"],
        description=(
            "The kitchen list: places booked (booked, attended or absent; never cancelled) per "
            "product, day, school class and meal variant, with the children's names and their "
            "family's extra information flagged (PAI, allergy). A place booked with a variant "
            "counts under it, never as standard. The period is `from`–`to` when given, else "
            "`week`, else `date`; at most 31 days. Each call is audited."
        ),
    )
    def get(self, request):
        params = request.query_params
        start, end = _period(params)
        products = headcounts.list_products()
        product = headcounts.chosen_product(params.get("product_id"), products)
        result = headcounts.kitchen_list(
            commune=request.tenant, start=start, end=end, products=products, product=product
        )
        services.record_headcount_view(
            viewed_by=request.user,
            commune=request.tenant,
            day=start,
            until=end,
            children=result.children_seen,
            product_id=product.pk if product else None,
            output="api",
        )
        return Response(headcount_json(result))
