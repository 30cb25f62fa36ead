"""Refresh the school calendar snapshot from the Ministry's open dataset."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shared_apps.common.errors import DomainError
from tenants.calendar import SCHOOL_ZONE_LABELS, SNAPSHOT_PATH, school_calendars
from tenants.school_calendar_import import (
    EXPORT_URL,
    read_export,
    snapshot_from_export,
    write_snapshot,
)


class Command(BaseCommand):
    help = (
        "Download the Ministry's school calendar (data.education.gouv.fr, "
        "« fr-en-calendrier-scolaire ») and rewrite tenants/school_calendar.json. Zones missing "
        "from the export keep their current data."
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
        zones = {}
        if output.exists():
            zones = {
                zone: {
                    "source": cal.source,
                    "covered_from": cal.covered_from.isoformat(),
                    "covered_until": cal.covered_until.isoformat(),
                    "holidays": _ranges(cal.days_off),
                }
                for zone, cal in school_calendars(output).items()
            }
        zones.update(fresh)
        write_snapshot(
            output,
            zones,
            note="Vacances scolaires par zone : jours sans classe (bornes incluses) et période "
            "couverte. Écrit par « manage.py refresh_school_calendar » depuis le jeu "
            "« fr-en-calendrier-scolaire » du ministère.",
        )
        for zone in sorted(fresh):
            self.stdout.write(
                f"{SCHOOL_ZONE_LABELS[zone]} : connu jusqu’au {fresh[zone]['covered_until']}"
            )
        self.stdout.write(self.style.SUCCESS(f"Calendrier scolaire mis à jour : {output}"))


def _ranges(days_off: dict) -> list[list[str]]:
    """Days off back to [first, last, name] ranges, to keep zones the export did not carry."""
    ranges: list[list] = []
    for day in sorted(days_off):
        name = days_off[day]
        if ranges and ranges[-1][2] == name and (day - ranges[-1][1]).days == 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day, name])
    return [[first.isoformat(), last.isoformat(), name] for first, last, name in ranges]
