"""Refresh the school calendar snapshot from the Ministry's open dataset."""

from __future__ import annotations

import datetime
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shared_apps.common.errors import DomainError
from tenants.calendar import (
    SCHOOL_ZONE_LABELS,
    SNAPSHOT_PATH,
    SchoolZoneCalendar,
    school_calendars,
)
from tenants.school_calendar_import import (
    EXPORT_URL,
    read_export,
    snapshot_from_export,
    write_snapshot,
)


class Command(BaseCommand):
    help = (
        "Download the Ministry's school calendar (data.education.gouv.fr, "
        "« fr-en-calendrier-scolaire ») and rewrite tenants/school_calendar.json. Within the span "
        "the export covers, its days replace ours; zones it does not carry keep their data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-file", help="read a CSV (;) or JSON export saved locally instead of downloading"
        )
        parser.add_argument("--url", default=EXPORT_URL, help="the export to download")
        parser.add_argument(
            "--output", default=str(SNAPSHOT_PATH), help="the snapshot file to rewrite"
        )

    def handle(self, *args, **options):
        output = Path(options["output"])
        dataset = "Ministère, jeu « fr-en-calendrier-scolaire »"
        if options["from_file"]:
            source = f"{dataset} (fichier {Path(options['from_file']).name})"
            text = Path(options["from_file"]).read_text(encoding="utf-8-sig")
        else:
            source = f"{dataset} ({options['url']})"
            try:
                with urllib.request.urlopen(options["url"], timeout=60) as response:
                    text = response.read().decode("utf-8-sig")
            except OSError as exc:
                raise CommandError(f"Téléchargement impossible : {exc}") from exc
        try:
            fresh = snapshot_from_export(read_export(text), source=source)
        except (DomainError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        if not fresh:
            raise CommandError("Aucune zone reconnue dans ce fichier : rien n’est changé.")
        current = school_calendars(output) if output.exists() else {}
        zones = {zone: _as_spec(calendar) for zone, calendar in current.items()}
        for zone, spec in fresh.items():
            zones[zone] = _merged(current[zone], spec) if zone in current else spec
        write_snapshot(
            output,
            zones,
            note="Vacances scolaires par zone : jours sans classe (bornes incluses) et période "
            "couverte. Écrit par « manage.py refresh_school_calendar » depuis le jeu "
            "« fr-en-calendrier-scolaire » du ministère.",
        )
        for zone in sorted(fresh):
            self.stdout.write(
                f"{SCHOOL_ZONE_LABELS[zone]} : connu jusqu’au {zones[zone]['covered_until']}"
            )
        self.stdout.write(self.style.SUCCESS(f"Calendrier scolaire mis à jour : {output}"))


def _as_spec(calendar: SchoolZoneCalendar) -> dict:
    return {
        "source": calendar.source,
        "covered_from": calendar.covered_from.isoformat(),
        "covered_until": calendar.covered_until.isoformat(),
        "holidays": _ranges(calendar.days_off),
    }


def _merged(current: SchoolZoneCalendar, spec: dict) -> dict:
    """The export's days replace ours over the span it covers; ours stay outside it, as long as
    the two spans leave no gap (coverage is one stretch of days). Otherwise the export wins."""
    fresh = SchoolZoneCalendar(
        current.zone,
        datetime.date.fromisoformat(spec["covered_from"]),
        datetime.date.fromisoformat(spec["covered_until"]),
        {
            datetime.date.fromisoformat(first) + datetime.timedelta(days=offset): name
            for first, last, name in spec["holidays"]
            for offset in range(
                (datetime.date.fromisoformat(last) - datetime.date.fromisoformat(first)).days + 1
            )
        },
        spec["source"],
    )
    day = datetime.timedelta(days=1)
    if (
        fresh.covered_from > current.covered_until + day
        or current.covered_from > fresh.covered_until + day
    ):
        return spec
    days_off = {d: n for d, n in current.days_off.items() if not fresh.covers(d)}
    days_off.update(fresh.days_off)
    return _as_spec(
        SchoolZoneCalendar(
            current.zone,
            min(current.covered_from, fresh.covered_from),
            max(current.covered_until, fresh.covered_until),
            days_off,
            spec["source"],
        )
    )


def _ranges(days_off: dict) -> list[list[str]]:
    """Days off back to [first, last, name] ranges."""
    ranges: list[list] = []
    for day in sorted(days_off):
        name = days_off[day]
        if ranges and ranges[-1][2] == name and (day - ranges[-1][1]).days == 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day, name])
    return [[first.isoformat(), last.isoformat(), name] for first, last, name in ranges]
