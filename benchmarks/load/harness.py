"""Runs locust headless against a server on the loopback and reads its statistics.

Used by benchmarks/load_peak.py (gunicorn, the full evening peak) and by
tests/load/test_evening_peak.py (the short mode in `make test`, against pytest-django's live
server). Locust runs in its own process (it monkey-patches the standard library with gevent),
bounded in time (`--run-time`), on 127.0.0.1 only.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BASELINE = "référence : /healthz"


def api_token(host: str, email: str, password: str) -> str:
    """A Bearer token through the public contract (`POST /api/v1/auth/token`)."""
    request = urllib.request.Request(
        f"{host}/api/v1/auth/token",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


@dataclass
class Operation:
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass
class Report:
    operations: dict[str, Operation]
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    users: int = 0

    @property
    def total(self) -> Operation:
        return self.operations["Aggregated"]

    @property
    def error_rate(self) -> float:
        return self.total.failures / self.total.requests if self.total.requests else 0.0

    def rows(self) -> list[list[str]]:
        """One row per operation: requests, req/s, p50, p95, and p50/p95 as ratios to the
        baseline's in the same run (how many baseline answers one operation costs)."""
        base = self.operations.get(BASELINE)
        rows = []
        for name, op in self.operations.items():
            if name == "Aggregated":
                continue
            # No baseline request in a very short run: no ratio, rather than "nan".
            p50 = f"{op.p50_ms / base.p50_ms:.1f}x" if base and base.p50_ms else "—"
            p95 = f"{op.p95_ms / base.p95_ms:.1f}x" if base and base.p95_ms else "—"
            rows.append(
                [
                    name,
                    str(op.requests),
                    str(op.failures),
                    f"{op.rps:.1f}",
                    f"{op.p50_ms:.0f}",
                    f"{op.p95_ms:.0f}",
                    p50,
                    p95,
                ]
            )
        return rows

    def table(self) -> str:
        headers = [
            "opération",
            "requêtes",
            "échecs",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p50/réf",
            "p95/réf",
        ]
        rows = [headers, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
        lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        total = self.total
        lines.append(
            f"{self.users} utilisateurs, {self.seconds:.0f} s : {total.requests} requêtes, "
            f"{total.rps:.1f} req/s, taux d’erreur {self.error_rate:.2%}"
        )
        return "\n".join(lines)


def run_locust(
    *,
    host: str,
    fixture: dict,
    workdir: Path,
    users: int,
    spawn_rate: float,
    seconds: int,
) -> Report:
    """Run the evening peak for `seconds` with `users` simulated people; return the statistics.

    Raises RuntimeError when locust itself fails (not when requests fail: those are counted).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    fixture_path = workdir / "fixture.json"
    fixture_path.write_text(json.dumps(fixture))
    prefix = workdir / "peak"
    env = {
        **os.environ,
        "MARELLE_LOAD_FIXTURE": str(fixture_path),
        "PYTHONWARNINGS": "ignore",
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    stats_file = Path(f"{prefix}_stats.csv")
    if completed.returncode != 0 or not stats_file.exists():
        raise RuntimeError(
            f"locust exited {completed.returncode}:\n{completed.stdout[-2000:]}\n"
            f"{completed.stderr[-3000:]}"
        )
    operations = {}
    with stats_file.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            operations[row["Name"]] = Operation(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                rps=float(row["Requests/s"]),
                p50_ms=float(row["50%"] or 0),
                p95_ms=float(row["95%"] or 0),
                mean_ms=float(row["Average Response Time"] or 0),
            )
    failures = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open(encoding="utf-8") as handle:
            failures = list(csv.DictReader(handle))
    # A Python exception inside a user's task is not a request failure for locust: count it.
    exceptions_file = Path(f"{prefix}_exceptions.csv")
    if exceptions_file.exists():
        with exceptions_file.open(encoding="utf-8") as handle:
            failures += [
                {
                    "Method": "EXCEPTION",
                    "Name": row.get("Nodes", ""),
                    "Error": row["Message"],
                    "Occurrences": row["Count"],
                    "Traceback": row.get("Traceback", ""),
                }
                for row in csv.DictReader(handle)
            ]
    return Report(operations=operations, failures=failures, seconds=seconds, users=users)
