"""The README's commands run as written from a checkout; production still needs its settings."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _manage_module():
    spec = importlib.util.spec_from_file_location("manage", ROOT / "manage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clean_environment(**extra: str) -> dict[str, str]:
    """Nothing Marelle reads, as in a fresh shell. DATABASE_URL points at the test server only
    so that no embedded PostgreSQL is started (the README allows either)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return {**env, **extra}


def test_every_manage_py_command_in_the_readme_exists():
    commands = re.findall(r"^\.venv/bin/python manage\.py (\w+)", README, flags=re.MULTILINE)
    assert {"migrate_platform", "create_commune", "create_staff", "demo"} <= set(commands)
    assert set(commands) <= set(get_commands())


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_manage_py_check_runs_as_the_readme_says_with_nothing_set():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "no issues" in result.stdout


def test_the_web_server_still_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=_clean_environment(DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "environ, has_git, expected",
    [
        ({}, True, "demo"),  # a checkout, nothing set: the README's case
        ({"SECRET_KEY": "x"}, True, None),  # a deployment's secret: production
        ({"MARELLE_ENV": "production"}, True, "production"),
        ({}, False, None),  # the Docker image has no .git: production
    ],
)
def test_manage_py_defaults_to_the_demo_only_in_an_unconfigured_checkout(
    tmp_path, environ, has_git, expected
):
    if has_git:
        (tmp_path / ".git").mkdir()
    environ = dict(environ)

    _manage_module().default_to_demo_in_a_checkout(environ, checkout=tmp_path)

    assert environ.get("MARELLE_ENV") == expected


def test_production_requires_the_public_base_url():
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=_clean_environment(MARELLE_ENV="production", SECRET_KEY="s" * 50, EMAIL_HOST="smtp"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "PUBLIC_BASE_URL is not set" in result.stderr
    assert "PUBLIC_BASE_URL" in README
