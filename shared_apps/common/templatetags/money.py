from django import template

from shared_apps.common.money import format_euros

register = template.Library()


@register.filter
def euros(cents) -> str:
    return format_euros(cents)
