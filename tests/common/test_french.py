"""French contractions and elisions (issue 9, fault 19): one helper, for every generated
sentence."""

from __future__ import annotations

import unicodedata

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from shared_apps.common.french import a, de, jusqua, que


@pytest.mark.parametrize(
    ("name", "of", "to"),
    [
        ("Le Puy-en-Velay", "du Puy-en-Velay", "au Puy-en-Velay"),
        ("Le Havre", "du Havre", "au Havre"),
        ("Les Abrets", "des Abrets", "aux Abrets"),
        ("Les Échelles", "des Échelles", "aux Échelles"),
        ("La Chapelle", "de La Chapelle", "à La Chapelle"),
        ("L’Isle-d’Abeau", "de L’Isle-d’Abeau", "à L’Isle-d’Abeau"),
        ("L'Isle-d'Abeau", "de L'Isle-d'Abeau", "à L'Isle-d'Abeau"),
        ("Aix-les-Bains", "d’Aix-les-Bains", "à Aix-les-Bains"),
        ("Ambérieu-en-Bugey", "d’Ambérieu-en-Bugey", "à Ambérieu-en-Bugey"),
        ("Yzeure", "d’Yzeure", "à Yzeure"),
        ("Hyères", "d’Hyères", "à Hyères"),
        ("Haute-Rivoire", "de Haute-Rivoire", "à Haute-Rivoire"),
        ("Houdan", "de Houdan", "à Houdan"),
        ("Baneins", "de Baneins", "à Baneins"),
        ("Lescar", "de Lescar", "à Lescar"),  # "Les…" inside a word is no article
        ("Lens", "de Lens", "à Lens"),
    ],
)
def test_communes_read_well_after_de_and_a(name, of, to):
    assert (de(name), a(name)) == (of, to)


@pytest.mark.parametrize(
    ("first_name", "of"),
    [("Inès", "d’Inès"), ("Émile", "d’Émile"), ("Léa", "de Léa"), ("Hugo", "de Hugo"),
     ("Yanis", "de Yanis"), ("Yves", "d’Yves")],
)  # fmt: skip
def test_first_names_after_de(first_name, of):
    assert de(first_name) == of


def test_que_elides_before_a_vowel():
    assert (que("Inès"), que("Léa")) == ("qu’Inès", "que Léa")


def test_deadlines_read_well_after_jusqua():
    assert jusqua("le jeudi de la semaine précédente avant 12 h 00") == (
        "jusqu’au jeudi de la semaine précédente avant 12 h 00"
    )
    assert (
        jusqua("2 jours ouvrés avant, avant 09 h 00")
        == "jusqu’à 2 jours ouvrés avant, avant 09 h 00"
    )


def test_the_template_filters_are_the_same_helper():
    rendered = Template(
        "{% load french %}Services {{ c|de }} — réserver {{ c|a }} — {{ rule|jusqua }}"
    ).render(Context({"c": "Le Puy-en-Velay", "rule": "le jour même avant 9 h 00"}))
    assert rendered == (
        "Services du Puy-en-Velay — réserver au Puy-en-Velay — jusqu’au jour même avant 9 h 00"
    )


# --- Properties: for any article + word, vowel- or consonant-initial name --------------------

LETTERS = "abcdefgijklmnopqrstuvwxzéèàç"
word = st.text(LETTERS, min_size=2, max_size=12)
capitalised = word.map(lambda w: w[0].upper() + w[1:])
vowel_initial = st.builds(lambda v, w: v + w, st.sampled_from("AEIOUÉÈÂÎaeiouéè"), word)
consonant_initial = st.builds(
    lambda c, w: c + w, st.sampled_from("BCDFGJKMNPQRSTVWXZbcdfgmnprst"), word
)
compound = st.builds(lambda w1, w2: f"{w1}-en-{w2}", capitalised, capitalised)
bare_name = st.one_of(vowel_initial, consonant_initial, compound)
article = st.sampled_from(["Le ", "La ", "Les ", "L’", "L'", "le ", "les ", "la "])
with_article = st.builds(lambda art, rest: (art, rest), article, st.one_of(capitalised, compound))


def _is_vowel(letter: str) -> bool:
    return unicodedata.normalize("NFD", letter)[0].lower() in "aeiou"


def _never_uncontracted(phrase: str) -> None:
    lowered = phrase.lower()
    assert "de le " not in lowered and "de les " not in lowered
    assert "à le " not in lowered and "à les " not in lowered
    assert not (phrase.startswith("de ") and _is_vowel(phrase[3]))


@given(with_article)
def test_names_with_an_article_contract_and_keep_their_words(parts):
    art, rest = parts
    name = art + rest
    for phrase in (de(name), a(name)):
        _never_uncontracted(phrase)
        assert phrase.endswith(rest)  # the words after the article are kept as written
    if art.strip().lower() == "le":
        assert (de(name), a(name)) == (f"du {rest}", f"au {rest}")
    elif art.strip().lower() == "les":
        assert (de(name), a(name)) == (f"des {rest}", f"aux {rest}")
    else:  # "La", "L’": no contraction, the article stays as written
        assert (de(name), a(name)) == (f"de {name}", f"à {name}")


@given(bare_name)
def test_names_without_an_article_elide_before_a_vowel_only(name):
    phrase = de(name)
    _never_uncontracted(phrase)
    if _is_vowel(name[0]):
        assert phrase == f"d’{name}"
        assert que(name) == f"qu’{name}"
    else:
        assert phrase == f"de {name}"
        assert que(name) == f"que {name}"
    assert a(name) == f"à {name}"


def test_words_agree_with_numbers_and_amounts_as_in_french():
    from shared_apps.common.french import accord, accord_euros

    assert accord(0, "enfant") == "enfant" and accord(1, "enfant") == "enfant"
    assert accord(2, "enfant") == "enfants"
    assert accord(3, "enfant pointé", "enfants pointés") == "enfants pointés"
    assert accord_euros(190, "remboursé") == "remboursé"  # 1,90 € remboursé
    assert accord_euros(200, "remboursé") == "remboursés"
