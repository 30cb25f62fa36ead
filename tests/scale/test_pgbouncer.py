"""Behind PgBouncer, no request or task ever runs on another commune's schema.

The design (deploy/README.md, "Scale"): PgBouncer in **session** pooling mode. django-tenants
sets the search_path once per database session and again whenever the commune changes, so a
session must belong to one client from its first query to its last; PgBouncer's
`server_reset_query` (DISCARD ALL) wipes the search_path before a server connection goes to the
next client, and the next client sets its own. Transaction pooling would hand a server
connection, search_path included, to another client between two transactions (the second test
shows the leak), so it is not used.

Each test starts its own PgBouncer (the Debian package) on a free port with a generated
configuration in front of the test database's server, and is skipped when it is not installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from config.celery import TenantTask, app
from tenant_apps.catalog.models import Service
from tests.parallel import run_in_parallel

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
pytestmark = [
    pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed"),
    pytest.mark.django_db(transaction=True),
]
POOL_SIZE = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def pgbouncer(pool_mode: str, pool_size: int = POOL_SIZE):
    """A PgBouncer on 127.0.0.1:<free port> in front of the test database's server, its
    configuration in a directory of its own (readable by the user it runs as)."""
    with tempfile.TemporaryDirectory(prefix="marelle-pgbouncer-") as tmp:
        yield from _pgbouncer(Path(tmp), pool_mode, pool_size)


def _pgbouncer(tmp_path: Path, pool_mode: str, pool_size: int):
    upstream = connection.settings_dict
    host = upstream.get("HOST") or "127.0.0.1"
    port = _free_port()
    user = upstream.get("USER") or "postgres"
    tmp_path.chmod(0o755)
    (tmp_path / "userlist.txt").write_text(f'"{user}" "{upstream.get("PASSWORD") or ""}"\n')
    (tmp_path / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={upstream.get('PORT') or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {tmp_path / 'userlist.txt'}\n"
        f"admin_users = {user}\n"
        f"pool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\nmin_pool_size = 0\n"
        "max_client_conn = 100\nserver_reset_query = DISCARD ALL\n"
    )
    for path in tmp_path.iterdir():
        path.chmod(0o644)
    command = [PGBOUNCER, str(tmp_path / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        # As the server's own user when it listens on a private Unix socket (the embedded
        # PostgreSQL of `make test`): only that user may open its socket directory.
        run_as = pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else ""
        if not run_as or run_as == "root":
            try:
                run_as = pwd.getpwnam("postgres").pw_name
            except KeyError:
                pytest.skip("running as root without a postgres user for PgBouncer")
        command[1:1] = ["-u", run_as]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(50):
            try:
                psycopg.connect(
                    host="127.0.0.1",
                    port=port,
                    user=user,
                    dbname=upstream["NAME"],
                    connect_timeout=2,  # a PgBouncer that cannot reach the server never answers
                ).close()
                break
            except psycopg.OperationalError:
                if process.poll() is not None:
                    pytest.fail(f"pgbouncer exited: {process.stdout.read().decode()}")
                time.sleep(0.1)
        else:
            pytest.fail(f"PgBouncer on port {port} never reached {host}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _servers(port: int) -> int:
    """How many server connections PgBouncer opened to PostgreSQL for the test database."""
    output = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-At",
            "pgbouncer",
            "-c",
            "SHOW SERVERS",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(1 for line in output.splitlines() if f"|{connection.settings_dict['NAME']}|" in line)


@app.task(base=TenantTask)
def _service_names_task(schema_name: str) -> list[str]:
    return sorted(Service.objects.values_list("name", flat=True))


@pytest.fixture
def two_communes(commune_a, commune_b):
    """Each commune with a service only it has, committed (PgBouncer's sessions are others)."""
    rows = []
    for commune, name in ((commune_a, "Cantine de A"), (commune_b, "Garderie de B")):
        with tenant_context(commune):
            rows.append(Service.objects.create(name=name, kind="cantine"))
    yield {
        commune_a.slug: ("Cantine de A", "Garderie de B"),
        commune_b.slug: ("Garderie de B", "Cantine de A"),
    }
    for commune, row in zip((commune_a, commune_b), rows, strict=True):
        with tenant_context(commune):
            Service.objects.filter(pk=row.pk).delete()


def test_interleaved_requests_and_tasks_through_session_pooling_stay_in_their_commune(
    two_communes, commune_a, commune_b
):
    schemas = {commune_a.slug: commune_a.schema_name, commune_b.slug: commune_b.schema_name}

    def job(first: str, second: str):
        def run():
            client = Client()
            seen = []
            for round_no in range(6):
                slug = first if round_no % 2 == 0 else second
                page = client.get(f"/c/{slug}/").content.decode()
                own, other = two_communes[slug]
                seen.append((slug, own in page, other in page))
                names = _service_names_task.apply(args=[schemas[slug]]).get(
                    disable_sync_subtasks=False
                )
                seen.append((slug, own in names, other in names))
                connection.close()
            return seen

        return run

    slugs = list(two_communes)
    saved = dict(connection.settings_dict)
    with pgbouncer("session") as port:
        connection.close()
        try:
            # A new database session per request, as under CONN_MAX_AGE=0: every request is
            # a new PgBouncer client that gets a server connection another commune used before.
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port), CONN_MAX_AGE=0)
            results = run_in_parallel([job(*slugs), job(*reversed(slugs))] * 2)
            servers = _servers(port)
        finally:
            connection.close()
            connection.settings_dict.update(saved)

    for result in results:
        assert not isinstance(result, Exception), result
        assert len(result) == 12
        assert all(own and not other for _, own, other in result), result
    assert 1 <= servers <= POOL_SIZE  # 48 requests and tasks over at most 2 server sessions


def test_transaction_pooling_would_leak_a_communes_search_path_to_another_client(commune_a):
    """Why not transaction pooling: a session setting outlives the transaction that set it."""
    name = connection.settings_dict["NAME"]
    with (
        pgbouncer("transaction", pool_size=1) as port,
        psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=name, autocommit=True
        ) as first,
        psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=name, autocommit=True
        ) as second,
    ):
        first.execute(f'SET search_path = "{commune_a.schema_name}", public')
        leaked = second.execute("SHOW search_path").fetchone()[0]
    assert commune_a.schema_name in leaked
