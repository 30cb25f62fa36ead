"""deploy/README.md documents every environment variable the image reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "config/settings.py",
    "config/celery.py",
    "shared_apps/common/observability.py",
    "tenants/management/commands/commune_backup.py",
    "deploy/gunicorn.conf.py",
    "deploy/entrypoint.sh",
]
NOT_DEPLOYMENT = {"PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE"}


def _variables() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        text = (ROOT / source).read_text()
        found |= set(
            re.findall(
                r"""(?:environ(?:\.get)?|env_bool|env_list|_int_env)\(\s*['"]([A-Z][A-Z0-9_]+)['"]""",
                text,
            )
        )
        found |= set(re.findall(r"""environ\[['"]([A-Z][A-Z0-9_]+)['"]\]""", text))
        found |= (
            set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", text)) if source.endswith(".sh") else set()
        )
    return found - NOT_DEPLOYMENT


def test_every_variable_is_in_the_runbooks_configuration_table():
    runbook = (ROOT / "deploy" / "README.md").read_text()
    table = runbook.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))

    assert {"SECRET_KEY", "DATABASE_URL", "SENTRY_DSN", "METRICS_TOKEN"} <= _variables()
    assert _variables() - documented == set()


def test_the_example_environment_sets_what_production_requires():
    example = (ROOT / "deploy" / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert {
        "SECRET_KEY",
        "EMAIL_HOST",
        "PUBLIC_BASE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_HOSTS",
    } <= names
