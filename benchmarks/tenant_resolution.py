"""What resolving the commune costs per request: commune requests (/c/<slug>/…) vs public ones.

Two measurements, in the same run; each is repeated several times, its cases interleaved in
chunks of 100 requests so that the machine's load weighs on every case alike:

1. Full stack, in process (django.test.Client: every middleware, URL resolution, view,
   template, database; no network, no WSGI server):
   * GET /healthz         — public, no template, one `SELECT 1` (reference for the bare stack);
   * GET /                — public home page: template + the list of communes;
   * GET /c/<slug>/       — commune home page: template + the commune's services.
   The two pages render different templates, so their gap is not all tenant resolution.

2. CommuneMiddleware alone, called on RequestFactory requests with a trivial view that runs
   `SELECT 1` through Django's connection (so the `SET search_path` that follows a schema change
   is paid, as it is by the first query of a real view):
   * no middleware        — the view alone (connection already on the public schema);
   * /                    — public request;
   * /c/<slug>/           — commune request, commune row in the per-process cache (the usual case);
   * /c/<slug>/, miss     — the same with the cache emptied first (one more query);
   * / then /c/<slug>/    — a public request then a commune one, as a pair: each switches the
                            connection's search path, so each pays its `SET search_path`.
   A commune request right after another for the same commune sends no `SET search_path`
   (tenants/middleware.py keeps the connection's path, TENANT_KEEP_SEARCH_PATH).

The connection stays open between requests, as with CONN_MAX_AGE > 0 in production
(DATABASE_URL sets 60 s); opening a connection per request would dwarf all of this.

    MARELLE_ENV=demo .venv/bin/python benchmarks/tenant_resolution.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from _common import add_db_arguments, describe, machine_summary, print_table, setup_django

SLUG = "bench-resolution"
SERVICES = [("cantine", "Restaurant scolaire"), ("garderie", "Garderie du matin")]
SERVICES += [("periscolaire", "Accueil du soir")]
CHUNK = 100  # calls of one case in a row, before the next case's turn


def prepare_commune():
    """The commune requested by the benchmark, with a few services to list."""
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from tenants.models import Commune
    from tenants.selectors import forget_commune
    from tenants.services import create_commune

    commune = Commune.objects.filter(slug=SLUG).first() or create_commune(
        slug=SLUG, name="Commune de banc d’essai", insee_code="01001", holiday_zone="A"
    )
    forget_commune()
    services = 0
    try:
        from tenant_apps.catalog.models import Service

        with tenant_context(commune):
            for kind, name in SERVICES:
                Service.objects.get_or_create(name=name, defaults={"kind": kind})
            services = Service.objects.filter(is_active=True).count()
    except Exception as exc:  # the catalogue model may change: the benchmark still runs
        print(f"NOTE: could not add services to the commune ({exc}); its list stays empty.")
    # Pages use {% static %}, which needs collectstatic's manifest outside DEBUG (as `make demo`).
    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        print("(running collectstatic: the pages need its manifest)")
        call_command("collectstatic", interactive=False, verbosity=0)
    return commune, services


def count_queries(call: Callable[[], object]) -> list[str]:
    """The SQL one call runs, once warm (a call before it fills the commune cache)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured.captured_queries]


def measure(
    cases: dict[str, Callable[[], object]], *, requests: int, repeats: int, warmup: int
) -> dict[str, list[float]]:
    """µs per call for each case, over `repeats` runs of `requests` calls.

    A run interleaves the cases in chunks of CHUNK calls (order rotating), so a change of load
    on the machine during the run weighs on every case alike.
    """
    for call in cases.values():
        for _ in range(warmup):
            call()
    names = list(cases)
    chunks = [CHUNK] * (requests // CHUNK) + ([requests % CHUNK] if requests % CHUNK else [])
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        spent = dict.fromkeys(names, 0.0)
        gc.collect()
        for index, size in enumerate(chunks):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                call = cases[name]
                started = time.perf_counter()
                for _ in range(size):
                    call()
                spent[name] += time.perf_counter() - started
        for name in names:
            samples[name].append(spent[name] / requests * 1e6)
    return samples


def report(samples: dict[str, list[float]], queries: dict[str, list[str]]) -> dict[str, float]:
    medians = {}
    rows = []
    for name, values in samples.items():
        stats = describe(values)
        medians[name] = stats["median"]
        rows.append(
            [
                name,
                f"{stats['median']:.1f}",
                f"{stats['min']:.1f}",
                f"{stats['max']:.1f}",
                f"{1e6 / stats['median']:.0f}",
                len(queries[name]),
            ]
        )
    print_table(["case", "median µs", "min µs", "max µs", "per s", "queries"], rows)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each case (default 5)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per case first")
    add_db_arguments(parser)
    args = parser.parse_args()

    setup_django(reuse_db=args.reuse_db)
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client, RequestFactory

    from tenants.middleware import CommuneMiddleware
    from tenants.models import Commune
    from tenants.selectors import forget_commune

    commune, services = prepare_commune()
    communes = Commune.objects.filter(is_active=True).count()
    connection.set_schema_to_public()
    print(f"Machine: {machine_summary()}")
    print(
        f"Commune /c/{SLUG}/ (schema {commune.schema_name}, {services} services); "
        f"{communes} commune(s) on the home page"
    )
    print(
        f"{args.rounds} runs x {args.requests} requests per case (interleaved by {CHUNK}), "
        f"{args.warmup} warm-up\n"
    )

    # 1. Full stack --------------------------------------------------------------------------
    client = Client()
    commune_path = f"/c/{SLUG}/"

    def get(path: str) -> Callable[[], object]:
        def call():
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}")
            return response

        return call

    pages = {
        "GET /healthz": get("/healthz"),
        "GET / (home)": get("/"),
        f"GET {commune_path} (commune home)": get(commune_path),
    }
    page_queries = {name: count_queries(call) for name, call in pages.items()}
    print("1. Full stack (django.test.Client, in process)")
    page_samples = measure(pages, requests=args.requests, repeats=args.rounds, warmup=args.warmup)
    page_medians = report(page_samples, page_queries)
    home, commune_home = page_medians["GET / (home)"], page_medians[list(pages)[2]]
    print(
        f"commune home / home: {commune_home / home:.2f}x "
        f"({commune_home - home:+.1f} µs per request)\n"
    )

    # 2. The middleware alone ----------------------------------------------------------------
    ok = HttpResponse(b"ok")

    def view(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return ok

    middleware = CommuneMiddleware(view)
    factory = RequestFactory()
    public_request = factory.get("/")
    commune_request = factory.get(commune_path)

    def cache_miss():
        forget_commune(SLUG)
        return middleware(commune_request)

    connection.set_schema_to_public()
    view(public_request)  # the search_path is set: the bare view pays only its SELECT 1
    alone = {
        "no middleware (view: SELECT 1)": lambda: view(public_request),
        "middleware, / (public)": lambda: middleware(public_request),
        f"middleware, {commune_path} (cached)": lambda: middleware(commune_request),
        f"middleware, {commune_path} (cache miss)": cache_miss,
        # The connection's search path is the commune's after a commune request (issue 15:
        # kept, so the same commune again sends no SET); a public request between switches
        # it: this pair pays the two SETs that switching costs.
        f"pair: / then {commune_path} (cached)": lambda: (
            middleware(public_request),
            middleware(commune_request),
        ),
    }
    alone_queries = {name: count_queries(call) for name, call in alone.items()}
    print("2. CommuneMiddleware alone (RequestFactory requests, view runs SELECT 1)")
    alone_samples = measure(alone, requests=args.requests, repeats=args.rounds, warmup=args.warmup)
    alone_medians = report(alone_samples, alone_queries)
    bare, public, cached, miss, pair = (alone_medians[name] for name in alone)
    print(
        f"commune (cached) / public: {cached / public:.2f}x ({cached - public:+.1f} µs); "
        f"cache miss / public: {miss / public:.2f}x ({miss - public:+.1f} µs); "
        f"public middleware over the bare view: {public - bare:+.1f} µs; a public then a "
        f"commune request: {pair:.1f} µs against {public + cached:.1f} µs for the two alone"
    )
    print("\nQueries per call:")
    for name, sqls in {**page_queries, **alone_queries}.items():
        print(
            f"  {name}: " + " | ".join(sql if len(sql) < 70 else sql[:67] + "..." for sql in sqls)
        )


if __name__ == "__main__":
    main()
