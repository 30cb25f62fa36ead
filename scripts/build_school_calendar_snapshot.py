"""Build tenants/school_calendar.json offline, from what we can check without the network.

    python scripts/build_school_calendar_snapshot.py

- Zones A, B, C: the day-by-day data shipped by vacances-scolaires-france (itself built from the
  Ministry's dataset « fr-en-calendrier-scolaire »), from the summer of 2024 on.
- Corse and La Réunion: the hand-entered table below, from the académies' published calendars
  (departure day « après la classe », morning classes resume), read through the same parser as
  the Ministry's export so both follow one rule.
- Other overseas académies are not in this snapshot: communes there are refused until
  `manage.py refresh_school_calendar` has loaded them from the Ministry's dataset.

Once the network is available, `manage.py refresh_school_calendar` replaces all of this with the
Ministry's own data.
"""

from __future__ import annotations

import csv
import datetime
import os
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import vacances_scolaires_france

from tenants.calendar import SNAPSHOT_PATH
from tenants.school_calendar_import import snapshot_from_export, write_snapshot

LIBRARY_FROM = datetime.date(2024, 7, 1)
LIBRARY_SOURCE = (
    f"vacances-scolaires-france {version('vacances-scolaires-france')} data.csv (copie du jeu "
    "« fr-en-calendrier-scolaire » du ministère), à partir de l'été 2024"
)

# (zone, description, departure day, day classes resume); departure = resume: end unknown yet.
HAND_ENTERED = {
    "Corse": (
        "Saisie à la main d'après le calendrier de l'académie de Corse : 2024-2025 relayé par "
        "evous.fr (« source : Académie de Corse »), 2025-2026 par Corse Net Infos (18/08/2025). "
        "2026-2027 non publié au moment de la saisie. Jours locaux (8 septembre, 8 décembre) "
        "non repris.",
        [
            ("Vacances de la Toussaint", "2024-10-19", "2024-11-04"),
            ("Vacances de Noël", "2024-12-21", "2025-01-06"),
            ("Vacances d'hiver", "2025-02-15", "2025-03-03"),
            ("Vacances de printemps", "2025-04-12", "2025-04-28"),
            ("Pont de l'Ascension", "2025-05-29", "2025-06-02"),
            ("Vacances d'été", "2025-07-05", "2025-09-02"),
            ("Vacances de la Toussaint", "2025-10-18", "2025-11-03"),
            ("Vacances de Noël", "2025-12-20", "2026-01-05"),
            ("Vacances d'hiver", "2026-02-14", "2026-03-02"),
            ("Vacances de printemps", "2026-04-11", "2026-04-27"),
            ("Pont de l'Ascension", "2026-05-13", "2026-05-18"),
            ("Début des Vacances d'Été", "2026-07-04", "2026-07-04"),
        ],
    ),
    "Réunion": (
        "Saisie à la main d'après le calendrier de l'académie de La Réunion (2024-2025 relayé "
        "par evous.fr ; 2025-2026 et 2026-2027, calendrier austral adapté par le décret "
        "d'octobre 2025, relayés par calendrier-scolaire.education).",
        [
            ("Vacances d'hiver austral", "2024-07-06", "2024-08-19"),
            ("Vacances après la 1re période", "2024-10-12", "2024-10-28"),
            ("Vacances de l'été austral", "2024-12-19", "2025-01-21"),
            ("Vacances après la 3e période", "2025-03-01", "2025-03-17"),
            ("Vacances après la 4e période", "2025-05-03", "2025-05-19"),
            ("Vacances d'hiver austral", "2025-07-05", "2025-08-19"),
            ("Vacances après la 1re période", "2025-10-11", "2025-10-27"),
            ("Vacances de l'été austral", "2025-12-19", "2026-01-21"),
            ("Vacances après la 3e période", "2026-02-28", "2026-03-16"),
            ("Vacances après la 4e période", "2026-05-02", "2026-05-18"),
            ("Vacances d'hiver austral", "2026-07-04", "2026-08-18"),
            ("Vacances après la 1re période", "2026-10-10", "2026-10-26"),
            ("Vacances de l'été austral", "2026-12-19", "2027-02-01"),
            ("Vacances après la 3e période", "2027-03-16", "2027-03-30"),
            ("Vacances après la 4e période", "2027-05-05", "2027-05-19"),
            ("Début des vacances d'hiver austral", "2027-07-03", "2027-07-03"),
        ],
    ),
}


def from_library() -> dict[str, dict]:
    path = Path(vacances_scolaires_france.__file__).with_name("data") / "data.csv"
    zones: dict[str, dict] = {}
    with open(path, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["date"] >= LIBRARY_FROM.isoformat()]
    for zone in ("A", "B", "C"):
        holidays: list[list[str]] = []
        for row in rows:
            if row[f"vacances_zone_{zone.lower()}"] != "True":
                continue
            day, name = row["date"], row["nom_vacances"]
            previous = holidays[-1] if holidays else None
            yesterday = (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat()
            if previous and previous[2] == name and previous[1] == yesterday:
                previous[1] = day
            else:
                holidays.append([day, day, name])
        zones[zone] = {
            "source": LIBRARY_SOURCE,
            "covered_from": holidays[0][0],
            "covered_until": holidays[-1][1],
            "holidays": holidays,
        }
    return zones


def main() -> None:
    zones = from_library()
    for zone, (source, periods) in HAND_ENTERED.items():
        rows = [
            {"description": d, "population": "-", "start": s, "end": e, "zone": zone}
            for d, s, e in periods
        ]
        zones.update(snapshot_from_export(rows, source=source))
    write_snapshot(
        SNAPSHOT_PATH,
        zones,
        note="Vacances scolaires par zone : jours sans classe (bornes incluses) et période "
        "couverte. Construit par scripts/build_school_calendar_snapshot.py ; remplacé par "
        "« manage.py refresh_school_calendar » (jeu « fr-en-calendrier-scolaire » du ministère).",
    )
    print(f"{SNAPSHOT_PATH}: {', '.join(sorted(zones))}")


if __name__ == "__main__":
    main()
