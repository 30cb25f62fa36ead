"""The scale benchmark runs end to end on a few communes (its own database, dropped after)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]


def test_scale_benchmark_smoke(tmp_path):
    env = dict(os.environ)
    url = env.get("DATABASE_URL")
    if url:  # the same server as the tests, in a database of its own named for benchmarks
        parsed = urlparse(url)
        env["DATABASE_URL"] = parsed._replace(
            path=f"/{parsed.path.lstrip('/')}_scale_bench_smoke"
        ).geturl()
    out = tmp_path / "figures.json"

    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "scale.py"),
            "--communes",
            "3",
            "--levels",
            "1,3",
            "--samples",
            "1",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert [level["level"] for level in figures["levels"]] == [0, 2]
    assert all(
        len(level["replay"]) == 1 and len(level["clone"]) == 1 for level in figures["levels"]
    )
    assert len(figures["fill"]) >= 1
    assert figures["noop_after"][0] > 0
