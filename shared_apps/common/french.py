"""French contractions and elisions for generated sentences: "du Puy-en-Velay", "aux Abrets",
"d’Inès", "qu’Aix-les-Bains". One place decides them, for Python strings and templates alike.

    de("Le Puy-en-Velay") == "du Puy-en-Velay"     a("Le Puy-en-Velay") == "au Puy-en-Velay"
    de("Les Abrets") == "des Abrets"               a("Les Abrets") == "aux Abrets"
    de("La Chapelle") == "de La Chapelle"          a("L’Isle-d’Abeau") == "à L’Isle-d’Abeau"
    de("Inès") == "d’Inès"                         de("Yzeure") == "d’Yzeure"
    de("Hugo") == "de Hugo" (h aspiré)             que("Aix-les-Bains") == "qu’Aix-les-Bains"

A name's article ("Le", "Les", "la", "l’"…) merges with "à" and "de" as French does; the rest of
the name is kept as written.
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHE = "’"

# Words whose "h" is aspirated: no elision before them ("de Hugo", "de Haute-Savoie"). Mute "h"
# elides by default ("d’Hyères"), which is the more common case among communes and first names.
H_ASPIRE = frozenset(
    {
        "hache",
        "haguenau",
        "halle",
        "halles",
        "hameau",
        "hazebrouck",
        "hendaye",
        "hérisson",
        "honfleur",
        "houdan",
        "hugo",
        "hutte",
    }
)
H_ASPIRE_PREFIXES = ("haut",)  # Haut-, Haute-, Hautes-, Hauts-, Hautecourt, Hauteville…

_ARTICLE = re.compile(r"^(?P<article>les|le|la|l['’])(?P<gap>\s*)(?P<rest>.+)$", re.IGNORECASE)
_FIRST_WORD = re.compile(r"^[^\s\-'’]+")


def _plain(letter: str) -> str:
    """The letter without its accent, lowercased: "É" → "e"."""
    return unicodedata.normalize("NFD", letter)[0].lower()


def starts_with_vowel_sound(word: str) -> bool:
    """Whether French elides before `word`: a vowel, a mute "h", or a "y" sounding "i"
    ("Yzeure", "Yves"; not "Yanis", "Yasmine", where "y" is a consonant)."""
    word = word.strip()
    if not word:
        return False
    first = _plain(word[0])
    if first in "aeiou":
        return True
    if first == "y":
        return len(word) > 1 and _plain(word[1]) not in "aeiouy"
    if first == "h":
        head = _FIRST_WORD.match(word)
        head_word = head.group(0).lower() if head else word.lower()
        return head_word not in H_ASPIRE and not head_word.startswith(H_ASPIRE_PREFIXES)
    return False


def _split_article(name: str) -> tuple[str, str] | None:
    """("le", "Puy-en-Velay") for "Le Puy-en-Velay"; None when the name has no article."""
    match = _ARTICLE.match(name.strip())
    if not match:
        return None
    article = match.group("article").lower().replace("'", APOSTROPHE)
    if article in ("le", "la", "les") and not match.group("gap"):
        return None  # "Lens", "Lamballe", "Lescar": a word, not an article
    return article, match.group("rest")


def _with(preposition: str, name: str, *, masculine: str, plural: str) -> str:
    name = name.strip()
    split = _split_article(name)
    if split:
        article, rest = split
        if article == "le":
            return f"{masculine} {rest}"
        if article == "les":
            return f"{plural} {rest}"
    return f"{preposition} {name}"


def de(name: str) -> str:
    """ "de" before `name`: "du Puy-en-Velay", "des Abrets", "d’Aix-les-Bains", "de Baneins"."""
    name = str(name).strip()
    if not _split_article(name) and starts_with_vowel_sound(name):
        return f"d{APOSTROPHE}{name}"
    return _with("de", name, masculine="du", plural="des")


def a(name: str) -> str:
    """ "à" before `name`: "au Puy-en-Velay", "aux Abrets", "à L’Isle-d’Abeau", "à Yzeure"."""
    return _with("à", str(name), masculine="au", plural="aux")


def que(word: str) -> str:
    """ "que" before `word`: "qu’Inès", "que Léa"."""
    word = str(word).strip()
    return f"qu{APOSTROPHE}{word}" if starts_with_vowel_sound(word) else f"que {word}"


def jusqua(phrase: str) -> str:
    """ "jusqu’à" before `phrase`: "jusqu’au jeudi de la semaine précédente", "jusqu’à 9 h"."""
    return f"jusqu{APOSTROPHE}{a(phrase)}"


def accord(count: int | float, singular: str, plural: str | None = None) -> str:
    """The word agreeing with `count`: singular for 0 and 1 (and below 2, so "1,90 €
    remboursé"), plural from 2 on (Académie française, "Accord du nom avec un nombre")."""
    return singular if abs(count) < 2 else (plural or singular + "s")


def accord_euros(cents: int, singular: str, plural: str | None = None) -> str:
    """The participle agreeing with an amount in cents: 190 → singular, 200 → plural."""
    return accord(cents / 100, singular, plural)
