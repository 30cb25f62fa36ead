from django import template

from shared_apps.families.models import Relation

register = template.Library()


@register.filter
def relation_label(value: str | None) -> str:
    return Relation(value).label if value in Relation.values else ""
