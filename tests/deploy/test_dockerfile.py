"""deploy/Dockerfile: multi-stage, runs as an unprivileged user, has WeasyPrint's libraries."""

from __future__ import annotations

from pathlib import Path

import pytest

dockerfile_parse = pytest.importorskip("dockerfile_parse", reason="dockerfile-parse (dev extras)")
DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile"


@pytest.fixture(scope="module")
def parsed():
    parser = dockerfile_parse.DockerfileParser(fileobj=DOCKERFILE.open("rb"))
    return parser


def _stages(parsed):
    stages: list[list[dict]] = []
    for instruction in parsed.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_it_is_multi_stage_and_the_runtime_copies_from_the_build(parsed):
    stages = _stages(parsed)
    assert len(stages) >= 2
    froms = [s[0]["value"] for s in stages]
    assert froms[0].endswith(" AS build")
    runtime = stages[-1]
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    assert any(c.startswith("--from=build /opt/venv") for c in copies)


def test_the_runtime_runs_as_a_non_root_user(parsed):
    runtime = _stages(parsed)[-1]
    users = [i["value"] for i in runtime if i["instruction"] == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert runtime[-1]["instruction"] in ("CMD", "ENTRYPOINT") or users


def test_the_runtime_has_weasyprints_system_libraries(parsed):
    runtime = _stages(parsed)[-1]
    runs = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
    ):
        assert package in runs


def test_no_compiler_in_the_runtime(parsed):
    runtime = _stages(parsed)[-1]
    runs = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    assert "build-essential" not in runs and "gcc" not in runs
