"""Template filters for French contractions: {{ commune.name|de }} → "du Puy-en-Velay".

The same rules as shared_apps.common.french, which Python code calls directly.
"""

from django import template

from shared_apps.common import french

register = template.Library()


@register.filter(name="de")
def de(name) -> str:
    """ "Services {{ commune.name|de }}" → "Services du Puy-en-Velay"."""
    return french.de(name)


@register.filter(name="a")
def a(name) -> str:
    """ "Réserver {{ commune.name|a }}" → "Réserver au Puy-en-Velay"."""
    return french.a(name)


@register.filter(name="jusqua")
def jusqua(phrase) -> str:
    """ "{{ rule|jusqua }}" → "jusqu’au jeudi de la semaine précédente avant 12 h 00"."""
    return french.jusqua(phrase)
