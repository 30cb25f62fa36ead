"""Turn the Ministry's school-calendar export into Marelle's compact snapshot (pure), and write it.

The open dataset « fr-en-calendrier-scolaire » (data.education.gouv.fr) has one row per
académie, zone, school year and period: description, population (« - », « Élèves »,
« Enseignants »), start (the day classes stop, after class), end (the morning classes resume),
académie, zone, school year. The snapshot keeps, per zone, the days off as inclusive ranges and
the days it covers.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from shared_apps.common.errors import DomainError
from tenants.calendar import SCHOOL_ZONE_LABELS, ZONE_TIMEZONES

EXPORT_URL = (
    "https://data.education.gouv.fr/api/explore/v2.1/catalog/datasets/"
    "fr-en-calendrier-scolaire/exports/csv?delimiter=%3B"
)

# The dataset's zone names → our zone codes (zones we do not serve are ignored).
DATASET_ZONES = {
    "Zone A": "A",
    "Zone B": "B",
    "Zone C": "C",
    "Corse": "Corse",
    "Guadeloupe": "Guadeloupe",
    "Martinique": "Martinique",
    "Guyane": "Guyane",
    "Réunion": "Réunion",
    "La Réunion": "Réunion",
    "Mayotte": "Mayotte",
    "Saint Pierre et Miquelon": "Saint-Pierre-et-Miquelon",
    "Saint-Pierre-et-Miquelon": "Saint-Pierre-et-Miquelon",
}

# Column names in the CSV export (French labels) and in the API (field names).
_COLUMNS = {
    "description": ("Description", "description"),
    "population": ("Population", "population"),
    "start": ("Date de début", "start_date"),
    "end": ("Date de fin", "end_date"),
    "zone": ("Zones", "zones"),
}

_NAMES = {  # the dataset's capitals vary from year to year
    "vacances d'hiver": "Vacances d'hiver",
    "vacances de printemps": "Vacances de printemps",
    "vacances d'été": "Vacances d'été",
    "vacances de la toussaint": "Vacances de la Toussaint",
    "vacances de noël": "Vacances de Noël",
    "pont de l'ascension": "Pont de l'Ascension",
}


class InvalidSchoolCalendarExport(DomainError):
    code = "invalid_school_calendar_export"
    message = "Le fichier du calendrier scolaire n’a pas la forme attendue."


def _local_date(value: str, zone: str) -> datetime.date:
    """The local calendar day of a Ministry timestamp ("2025-12-19T23:00:00+00:00" → 20 Dec in
    Paris; "2025-10-10T20:00:00+00:00" → 11 Oct in La Réunion). Plain dates pass through."""
    value = value.strip()
    if len(value) == 10:
        return datetime.date.fromisoformat(value)
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    local = moment.astimezone(ZoneInfo(ZONE_TIMEZONES.get(zone, "Europe/Paris")))
    return (local + datetime.timedelta(hours=12)).date()  # midnight give or take DST


def first_day_off(departure: datetime.date) -> datetime.date:
    """Holidays start « après la classe » of the departure day (arrêté's wording): a weekday
    departure is still a school day; a weekend departure is already a day off."""
    return departure if departure.weekday() >= 5 else departure + datetime.timedelta(days=1)


def read_export(text: str) -> list[dict[str, str]]:
    """Rows of a CSV (`;` or `,`) or JSON export, with normalised keys. Raises
    InvalidSchoolCalendarExport when the columns are not there."""
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("["):
        raw = json.loads(text)
    else:
        dialect = ";" if text.split("\n", 1)[0].count(";") else ","
        raw = list(csv.DictReader(io.StringIO(text), delimiter=dialect))
    rows = []
    for item in raw:
        row = {}
        for key, names in _COLUMNS.items():
            value = next((item[n] for n in names if n in item), None)
            if value is None and key != "population":
                raise InvalidSchoolCalendarExport(
                    f"Colonne « {names[0]} » absente du fichier du calendrier scolaire."
                )
            row[key] = (value or "").strip()
        rows.append(row)
    return rows


def snapshot_from_export(rows: Iterable[dict[str, str]], *, source: str) -> dict[str, dict]:
    """{zone: {"covered_from", "covered_until", "holidays": [[first, last, name]], "source"}}.

    Days off run from first_day_off(start) to the day before `end` (classes resume that
    morning). A period without an end (« Début des Vacances d'Été », start = end) says when the
    last known school year stops: the zone is covered up to the day before it.
    Rows for teachers only, and zones we do not serve, are skipped.
    """
    periods: dict[str, set[tuple[datetime.date, datetime.date, str]]] = {}
    open_ended: dict[str, list[datetime.date]] = {}
    for row in rows:
        zone = DATASET_ZONES.get(row["zone"])
        if zone is None or row.get("population") == "Enseignants":
            continue
        description = row["description"]
        if description.lower().startswith(("rentrée", "prérentrée")):
            continue
        start, end = _local_date(row["start"], zone), _local_date(row["end"], zone)
        first = first_day_off(start)
        if description.lower().startswith("début des") or end <= start:
            open_ended.setdefault(zone, []).append(first)
            continue
        name = description.replace("’", "'")
        name = _NAMES.get(name.lower(), name)
        periods.setdefault(zone, set()).add((first, end - datetime.timedelta(days=1), name))
    snapshot = {}
    for zone in sorted(set(periods) | set(open_ended)):
        holidays = sorted(periods.get(zone, ()))
        if not holidays:
            continue
        covered_until = max(last for _, last, _ in holidays)
        later = [d for d in open_ended.get(zone, ()) if d > covered_until]
        if later:
            covered_until = min(later) - datetime.timedelta(days=1)
        snapshot[zone] = {
            "source": source,
            "covered_from": holidays[0][0].isoformat(),
            "covered_until": covered_until.isoformat(),
            "holidays": [[f.isoformat(), last.isoformat(), n] for f, last, n in holidays],
        }
    return snapshot


def write_snapshot(path: Path, zones: dict[str, dict], *, note: str) -> None:
    """Write the snapshot file atomically (readers re-read it when it changes)."""
    unknown = set(zones) - set(SCHOOL_ZONE_LABELS)
    if unknown:
        raise InvalidSchoolCalendarExport(f"Zones inconnues : {', '.join(sorted(unknown))}.")
    dump = lambda value: json.dumps(value, ensure_ascii=False)  # noqa: E731
    lines = ["{", f' "about": {dump(note)},', ' "zones": {']
    for index, zone in enumerate(sorted(zones)):
        spec = zones[zone]
        lines += [f"  {dump(zone)}: {{"]
        lines += [f"   {dump(key)}: {dump(spec[key])}," for key in ("source", "covered_from")]
        lines += [f'   "covered_until": {dump(spec["covered_until"])},', '   "holidays": [']
        holidays = [f"    {dump(list(h))}" for h in spec["holidays"]]
        lines += [",\n".join(holidays), "   ]", "  }" + ("," if index < len(zones) - 1 else "")]
    lines += [" }", "}"]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
