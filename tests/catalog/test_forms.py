"""Reading a price typed in euros on the back-office forms: comma or dot, never a float."""

from __future__ import annotations

import pytest

from tenant_apps.catalog.forms import EurosField, ProductForm


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("3,80", 380),
        ("3.80", 380),
        ("3,8", 380),
        ("3", 300),
        (" 3,80 € ", 380),
        ("3,80\u00a0€", 380),
        ("1 000,50", 100_050),
        ("0", 0),
        ("0,05", 5),
        ("4,10", 410),  # 4.10 * 100 is 409.99… in floating point
    ],
)
def test_a_price_in_euros_is_read_as_cents(typed, cents):
    assert EurosField().clean(typed) == cents


@pytest.mark.parametrize("typed", ["abc", "3,805", "1.000,50", "3,", ",50", "1e3", "3,80 $"])
def test_what_is_not_an_amount_is_refused_in_french(typed):
    from django.forms import ValidationError

    with pytest.raises(ValidationError, match="Montant invalide"):
        EurosField().clean(typed)


@pytest.mark.parametrize("typed", ["-1", "-3,80", " -0,50"])
def test_a_negative_price_is_refused_in_french(typed):
    from django.forms import ValidationError

    with pytest.raises(ValidationError, match="ne peut pas être négatif"):
        EurosField().clean(typed)


@pytest.mark.parametrize(("cents", "shown"), [(380, "3,80"), (5, "0,05"), (100_000, "1000,00")])
def test_a_saved_price_is_shown_as_it_would_be_typed(cents, shown):
    field = EurosField()
    assert field.prepare_value(cents) == shown
    assert field.clean(shown) == cents


def test_variants_are_read_one_per_line_or_separated_by_commas():
    form = ProductForm(
        {"name": "Repas", "price_cents": "3,80", "variants": "Standard, Sans viande\nPAI;\n\n"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["variants"] == ["Standard", "Sans viande", "PAI"]
