"""refresh_school_calendar rewrites the snapshot from the Ministry's export (a local file here:
tests never download)."""

from __future__ import annotations

import datetime
import shutil

import pytest
from django.core.management import CommandError, call_command

from tenants.calendar import SNAPSHOT_PATH, school_calendars

# The shape of data.education.gouv.fr's CSV export of « fr-en-calendrier-scolaire ».
EXPORT = """\
Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire
Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Lyon;Zone A;2026-2027
Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Dijon;Zone A;2026-2027
Vacances d'Hiver;-;2027-02-12T23:00:00+00:00;2027-02-28T23:00:00+00:00;Lyon;Zone A;2026-2027
Vacances de la Toussaint;Enseignants;2026-10-16T22:00:00+00:00;2026-11-02T23:00:00+00:00;Lyon;Zone A;2026-2027
Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;Corse;Corse;2026-2027
Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Corse;Corse;2026-2027
Début des Vacances d'Été;-;2027-07-02T22:00:00+00:00;2027-07-02T22:00:00+00:00;Corse;Corse;2026-2027
Vacances de Noël;-;2026-12-19T04:00:00+00:00;2027-01-04T04:00:00+00:00;Guadeloupe;Guadeloupe;2026-2027
Début des Vacances d'Été;-;2027-07-03T04:00:00+00:00;2027-07-03T04:00:00+00:00;Guadeloupe;Guadeloupe;2026-2027
Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;Polynésie;Polynésie;2026-2027
"""


@pytest.fixture
def snapshot(tmp_path):
    path = tmp_path / "school_calendar.json"
    shutil.copy(SNAPSHOT_PATH, path)
    return path


def _refresh(tmp_path, snapshot, text: str):
    export = tmp_path / "fr-en-calendrier-scolaire.csv"
    export.write_text(text, encoding="utf-8")
    call_command("refresh_school_calendar", "--from-file", str(export), "--output", str(snapshot))
    return school_calendars(snapshot)


def test_refresh_from_a_local_export_rewrites_the_zones_it_carries(tmp_path, snapshot):
    before = school_calendars(snapshot)
    zones = _refresh(tmp_path, snapshot, EXPORT)

    corse = zones["Corse"]
    assert corse.covered_until == datetime.date(2027, 7, 2)  # before the summer starts
    assert corse.holiday_on(datetime.date(2026, 12, 21)) == "Vacances de Noël"
    assert corse.holiday_on(datetime.date(2027, 1, 4)) is None  # classes resume
    assert zones["A"].holiday_on(datetime.date(2027, 2, 15)) == "Vacances d'hiver"
    assert zones["A"].holiday_on(datetime.date(2026, 11, 2)) is None  # teachers' row ignored
    # Guadeloupe's timestamps are read on Guadeloupe's clock (UTC-4).
    guadeloupe = zones["Guadeloupe"]
    assert guadeloupe.holiday_on(datetime.date(2026, 12, 19)) == "Vacances de Noël"
    assert guadeloupe.holiday_on(datetime.date(2027, 1, 4)) is None
    # A zone the export does not carry keeps its data; zones we do not serve are ignored.
    assert zones["Réunion"].days_off == before["Réunion"].days_off
    assert "Polynésie" not in zones


def test_refresh_from_a_file_without_the_expected_columns_changes_nothing(tmp_path, snapshot):
    before = snapshot.read_bytes()
    with pytest.raises(CommandError, match="Colonne"):
        _refresh(tmp_path, snapshot, "date;zone\n2026-12-21;A\n")
    with pytest.raises(CommandError, match="Aucune zone"):
        _refresh(tmp_path, snapshot, EXPORT.splitlines()[0] + "\n")
    assert snapshot.read_bytes() == before


def test_the_shipped_snapshot_covers_every_zone_we_serve_for_three_school_years():
    zones = school_calendars()
    assert {"A", "B", "C", "Corse", "Réunion"} <= set(zones)
    for zone in ("A", "B", "C", "Réunion"):
        assert zones[zone].covered_from <= datetime.date(2024, 10, 12)
        assert zones[zone].covered_until >= datetime.date(2027, 7, 2), zone
    assert zones["Corse"].covered_until >= datetime.date(2026, 7, 3)
