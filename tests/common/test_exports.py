"""Exports open in a spreadsheet as the numbers they hold, and never run a family's text."""

import io

from openpyxl import load_workbook

from shared_apps.common.exports import Sheet, csv_response, safe_cell, xlsx_bytes


def test_text_a_spreadsheet_would_run_stays_text():
    for attack in ('=HYPERLINK("http://x")', "+33 6 12", "-2+3", "@SUM(A1)", "\t=1"):
        assert safe_cell(attack) == "'" + attack
    assert safe_cell("Léa") == "Léa"
    assert safe_cell(-250) == -250  # numbers stay numbers, negative ones included
    assert safe_cell(None) == ""


def test_csv_opens_in_french_excel_with_safe_cells():
    response = csv_response("x.csv", Sheet("x", ["Nom", "Note"], [["=1+1", 3]]))
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeffNom;Note\r\n")
    assert "'=1+1;3" in body
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


def test_xlsx_round_trips_numbers_and_neutralises_formulas():
    data = xlsx_bytes([Sheet("Effectifs: lundi/mardi", ["Enfant", "Repas"], [["@cmd", 2]])])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.title == "Effectifs lundimardi"
    assert [c.value for c in sheet[2]] == ["'@cmd", 2]
    assert sheet[2][0].data_type == "s"
