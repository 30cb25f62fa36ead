"""The commune's place decides its calendar: INSEE code → département → public holidays and
school-holiday zone, and the school calendar snapshot shipped in `tenants/school_calendar.json`.

Pure functions and frozen values, cached; no database. Sources of the rules:
- public holidays: Code du travail L3133-1 (national list), L3134-13 (Alsace-Moselle: Good Friday
  and 26 December, in Moselle 57, Bas-Rhin 67, Haut-Rhin 68), and the overseas days of the
  abolition of slavery (loi 83-550 and décret 83-1003), as computed by `jours-feries-france`;
- school holidays: the Ministry's arrêtés fixing the school calendar (Code de l'éducation
  D521-1 ff.; Corse D521-6/D521-7; overseas académies by their recteurs), published as the open
  dataset « fr-en-calendrier-scolaire », of which the JSON file is a snapshot
  (`manage.py refresh_school_calendar` rewrites it).
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from jours_feries_france import JoursFeries

from shared_apps.common.errors import DomainError

SNAPSHOT_PATH = Path(__file__).with_name("school_calendar.json")
REFRESH_COMMAND = "python manage.py refresh_school_calendar"


class UnservedPlace(DomainError):
    """An INSEE code we cannot place, or a place whose school calendar we do not have."""

    code = "unserved_place"
    message = "Marelle ne connaît pas le calendrier de cette commune."


class BeyondSchoolCalendar(DomainError):
    """A day the school calendar snapshot does not cover yet (fail closed: not bookable)."""

    code = "school_calendar_unpublished"
    message = "Calendrier scolaire pas encore publié."


# --- Places ---------------------------------------------------------------------------------

# Public-holiday zones, as jours-feries-france names them (JoursFeries.ZONES).
METROPOLE = "Métropole"
ALSACE_MOSELLE = "Alsace-Moselle"

# School-holiday zones: the Ministry's zones A/B/C for the metropolitan académies, and one zone
# per académie elsewhere. Codes are what Commune.holiday_zone stores.
SCHOOL_ZONE_LABELS = {
    "A": "Zone A",
    "B": "Zone B",
    "C": "Zone C",
    "Corse": "Corse",
    "Guadeloupe": "Guadeloupe",
    "Martinique": "Martinique",
    "Guyane": "Guyane",
    "Réunion": "La Réunion",
    "Mayotte": "Mayotte",
    "Saint-Pierre-et-Miquelon": "Saint-Pierre-et-Miquelon",
}

# Metropolitan départements by school zone, through their académie (arrêté fixing the zones,
# Code de l'éducation D521-2; Normandie merged Caen and Rouen, both in zone B).
_ACADEMIES = {
    "A": {
        "Besançon": "25 39 70 90",
        "Bordeaux": "24 33 40 47 64",
        "Clermont-Ferrand": "03 15 43 63",
        "Dijon": "21 58 71 89",
        "Grenoble": "07 26 38 73 74",
        "Limoges": "19 23 87",
        "Lyon": "01 42 69",
        "Poitiers": "16 17 79 86",
    },
    "B": {
        "Aix-Marseille": "04 05 13 84",
        "Amiens": "02 60 80",
        "Lille": "59 62",
        "Nancy-Metz": "54 55 57 88",
        "Nantes": "44 49 53 72 85",
        "Nice": "06 83",
        "Normandie": "14 27 50 61 76",
        "Orléans-Tours": "18 28 36 37 41 45",
        "Reims": "08 10 51 52",
        "Rennes": "22 29 35 56",
        "Strasbourg": "67 68",
    },
    "C": {
        "Créteil": "77 93 94",
        "Montpellier": "11 30 34 48 66",
        "Paris": "75",
        "Toulouse": "09 12 31 32 46 65 81 82",
        "Versailles": "78 91 92 95",
    },
}

# Overseas: département (or collectivité with an INSEE code) → (public-holiday zone, school zone).
# Saint-Barthélemy (977) and Saint-Martin (978) belong to the académie de Guadeloupe.
_OVERSEAS = {
    "971": ("Guadeloupe", "Guadeloupe"),
    "972": ("Martinique", "Martinique"),
    "973": ("Guyane", "Guyane"),
    "974": ("La Réunion", "Réunion"),
    "975": ("Saint-Pierre-et-Miquelon", "Saint-Pierre-et-Miquelon"),
    "976": ("Mayotte", "Mayotte"),
    "977": ("Saint-Barthélémy", "Guadeloupe"),
    "978": ("Saint-Martin", "Guadeloupe"),
}

ALSACE_MOSELLE_DEPARTEMENTS = frozenset({"57", "67", "68"})

SCHOOL_ZONE_OF_DEPARTEMENT: dict[str, str] = {
    **{
        dep: zone
        for zone, acads in _ACADEMIES.items()
        for deps in acads.values()
        for dep in deps.split()
    },
    "2A": "Corse",
    "2B": "Corse",
    **{dep: school for dep, (_, school) in _OVERSEAS.items()},
}
DEPARTEMENTS = frozenset(SCHOOL_ZONE_OF_DEPARTEMENT)

# Each zone's clock, to read the Ministry's timestamps as local dates.
ZONE_TIMEZONES = {
    "Guadeloupe": "America/Guadeloupe",
    "Martinique": "America/Martinique",
    "Guyane": "America/Cayenne",
    "Réunion": "Indian/Reunion",
    "Mayotte": "Indian/Mayotte",
    "Saint-Pierre-et-Miquelon": "America/Miquelon",
}

_INSEE_RE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")


@dataclass(frozen=True)
class Place:
    """Where a commune is, as far as calendars go."""

    insee_code: str
    departement: str  # "01", "2A", "974"
    public_holiday_zone: str  # a JoursFeries.ZONES name
    school_zone: str  # a SCHOOL_ZONE_LABELS key


@lru_cache(maxsize=4096)
def place_of(insee_code: str) -> Place:
    """The département and calendar zones of the commune with this INSEE code (COG).

    Input: a 5-character INSEE code ("57463", "2A004", "97411"). Overseas codes start with their
    3-digit département (971–978); others with 2 characters (01–95, 2A, 2B; never 20 since 1976).
    Raises UnservedPlace (a DomainError) for anything else.
    """
    code = (insee_code or "").strip().upper()
    if not _INSEE_RE.match(code):
        raise UnservedPlace(
            f"Code INSEE « {insee_code} » invalide : 5 caractères (ex. 01385, 2A004, 97411).",
            fields={"insee_code": ["Code INSEE invalide."]},
        )
    departement = code[:3] if code.startswith("97") else code[:2]
    number = code[len(departement) :]
    if departement not in DEPARTEMENTS or not number.strip("0"):
        raise UnservedPlace(
            f"Le code INSEE « {code} » ne désigne aucune commune d’un département desservi "
            "(métropole, Corse, outre-mer 971 à 978).",
            fields={"insee_code": ["Département inconnu."]},
        )
    if departement in _OVERSEAS:
        public_zone = _OVERSEAS[departement][0]
    elif departement in ALSACE_MOSELLE_DEPARTEMENTS:
        public_zone = ALSACE_MOSELLE
    else:
        public_zone = METROPOLE
    return Place(code, departement, public_zone, SCHOOL_ZONE_OF_DEPARTEMENT[departement])


# --- Public holidays ------------------------------------------------------------------------


@lru_cache(maxsize=512)
def public_holidays(year: int, zone: str = METROPOLE) -> Mapping[datetime.date, str]:
    """{day: name} of the public holidays of `year` in a jours-feries-france `zone`.

    Computable for any year: never "beyond coverage". Alsace-Moselle adds Good Friday and
    26 December (Code du travail L3134-13); overseas zones add the abolition of slavery.
    Raises ValueError for an unknown zone (a programming error: zones come from place_of).
    """
    return MappingProxyType({day: name for name, day in JoursFeries.for_year(year, zone).items()})


# --- School calendar ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SchoolZoneCalendar:
    """One zone's school holidays as days off, and the days the data covers (inclusive)."""

    zone: str
    covered_from: datetime.date
    covered_until: datetime.date
    days_off: dict[datetime.date, str] = field(repr=False)  # day → "Vacances de Noël"
    source: str = ""

    def covers(self, day: datetime.date) -> bool:
        return self.covered_from <= day <= self.covered_until

    def holiday_on(self, day: datetime.date) -> str | None:
        """The school holiday's name on `day`, or None on a school day.

        Raises BeyondSchoolCalendar when the snapshot does not cover `day`: the caller must not
        guess (fault 6: such days used to pass as school days).
        """
        if not self.covers(day):
            raise BeyondSchoolCalendar()
        return self.days_off.get(day)


@dataclass(frozen=True, eq=False)
class CommuneCalendar:
    """What the booking rules need to know about a commune's days. Hashable by identity."""

    public_holiday_zone: str
    school: SchoolZoneCalendar | None  # None: no school calendar for this place (fail closed)

    def public_holiday_on(self, day: datetime.date) -> str | None:
        return public_holidays(day.year, self.public_holiday_zone).get(day)


def _parse_zone(zone: str, data: dict) -> SchoolZoneCalendar:
    days_off: dict[datetime.date, str] = {}
    for first, last, name in data["holidays"]:
        day, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
        while day <= end:
            days_off[day] = name
            day += datetime.timedelta(days=1)
    return SchoolZoneCalendar(
        zone=zone,
        covered_from=datetime.date.fromisoformat(data["covered_from"]),
        covered_until=datetime.date.fromisoformat(data["covered_until"]),
        days_off=days_off,
        source=data.get("source", ""),
    )


@lru_cache(maxsize=4)
def _load_snapshot(path: str, mtime_ns: int) -> dict[str, SchoolZoneCalendar]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {zone: _parse_zone(zone, spec) for zone, spec in data["zones"].items()}


def school_calendars(path: Path | None = None) -> dict[str, SchoolZoneCalendar]:
    """Every zone's school calendar from the snapshot. Re-read when the file changes (a refresh
    in another process is seen without a restart); otherwise served from memory."""
    path = Path(path or os.environ.get("MARELLE_SCHOOL_CALENDAR") or SNAPSHOT_PATH)
    return _load_snapshot(str(path), path.stat().st_mtime_ns)


def served_school_zones() -> frozenset[str]:
    return frozenset(school_calendars())


def calendar_for_place(place: Place) -> CommuneCalendar:
    return CommuneCalendar(place.public_holiday_zone, school_calendars().get(place.school_zone))


def check_serviceable(insee_code: str, *, holiday_zone: str = "") -> Place:
    """The place of a commune about to be opened, refused if we cannot serve its calendar.

    Inputs: the INSEE code and, optionally, the zone someone typed (it must agree with the
    code). Output: the Place. Raises UnservedPlace with a French message.
    """
    place = place_of(insee_code)
    if holiday_zone and holiday_zone != place.school_zone:
        raise UnservedPlace(
            f"La zone « {holiday_zone} » ne correspond pas au code INSEE {place.insee_code} "
            f"(département {place.departement}, zone {SCHOOL_ZONE_LABELS[place.school_zone]}). "
            "Laissez la zone vide : elle se déduit du code INSEE.",
            fields={"holiday_zone": ["Zone contraire au code INSEE."]},
        )
    if place.school_zone not in served_school_zones():
        raise UnservedPlace(
            f"Le calendrier scolaire de la zone {SCHOOL_ZONE_LABELS[place.school_zone]} "
            f"(département {place.departement}) n’est pas encore dans Marelle : lancez "
            f"« {REFRESH_COMMAND} » puis recommencez.",
            fields={"insee_code": ["Zone scolaire non desservie."]},
        )
    return place


def commune_calendar(commune) -> CommuneCalendar:
    """The calendar of a commune (or of whatever tenant the connection holds).

    Follows from its INSEE code. A commune without a usable code gets no school calendar, so
    days that depend on school holidays are not bookable (fail closed) rather than guessed.
    """
    insee_code = getattr(commune, "insee_code", "") or ""
    try:
        place = place_of(insee_code)
    except UnservedPlace:
        return CommuneCalendar(METROPOLE, None)
    return calendar_for_place(place)


@dataclass(frozen=True)
class CalendarWarning:
    message: str
    command: str = REFRESH_COMMAND


def calendar_warning(
    commune, *, today: datetime.date, horizon_days: int = 120
) -> CalendarWarning | None:
    """A warning for the commune's staff when the school calendar stops within `horizon_days`
    of `today` (families cannot book the days after), or is missing altogether."""
    calendar = commune_calendar(commune)
    if calendar.school is None:
        return CalendarWarning(
            "Le calendrier scolaire de la commune est inconnu (code INSEE absent ou zone non "
            "desservie) : les jours d’école et de vacances ne sont pas réservables."
        )
    until = calendar.school.covered_until
    if until >= today + datetime.timedelta(days=horizon_days):
        return None
    return CalendarWarning(
        f"Le calendrier scolaire ({SCHOOL_ZONE_LABELS.get(calendar.school.zone, '')}) n’est "
        f"connu que jusqu’au {until.strftime('%d/%m/%Y')} : les jours suivants ne sont pas "
        "réservables. Il faut le mettre à jour."
    )
