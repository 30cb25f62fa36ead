"""`manage.py check --deploy` is clean with the production settings and their required values."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_environment(**extra: str) -> dict[str, str]:
    """What deploy/.env.example asks for, with real-looking values (nothing else inherited)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "MARELLE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "marelle.example.fr",
        "CSRF_TRUSTED_ORIGINS": "https://marelle.example.fr",
        "PUBLIC_BASE_URL": "https://marelle.example.fr",
        "EMAIL_HOST": "smtp.example.fr",
        # never connected to by `check`: no embedded PostgreSQL is started either
        "DATABASE_URL": "postgres://marelle:unused@127.0.0.1:1/marelle",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "MARELLE_VAR_DIR": str(ROOT / "var" / "check-deploy"),
        **extra,
    }


def test_check_deploy_is_clean_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_json_logs_in_production():
    """The production process logs JSON lines with the context fields."""
    code = (
        "import django, json, logging; django.setup();"
        "logging.getLogger('marelle.test').warning('hello lea@exemple.fr')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**production_environment(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr
    import json

    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["level"] == "WARNING"
    assert line["message"] == "hello [e-mail]"
    assert {"time", "request_id", "commune", "user_id", "task_id"} <= set(line)
