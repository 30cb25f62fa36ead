"""Run jobs at the same instant on real threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from django.db import connection


def run_in_parallel(
    jobs: list[Callable], *, context: Callable[[], AbstractContextManager] = nullcontext
) -> list:
    """Each job's result, or the exception it raised. `context` wraps every job (e.g. a
    commune's tenant_context and frozen time), entered on the job's own thread."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index: int, job: Callable) -> None:
        try:
            with context():
                barrier.wait(timeout=30)
                results[index] = job()
        except Exception as exc:  # the tests assert on every outcome
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
