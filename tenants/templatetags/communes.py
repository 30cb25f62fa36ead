"""{% commune_url 'name' … %}: reverse a commune URL for the commune of the request."""

from django import template

from tenants.urls import commune_reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def commune_url(context, view_name: str, *args, **kwargs) -> str:
    commune = kwargs.pop("commune", None) or context["request"].tenant
    return commune_reverse(commune, view_name, args=args, kwargs=kwargs)
