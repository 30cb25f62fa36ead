"""Root of the test suite: shared fixtures come from the plugin modules of tests/fixtures/.

Directory conftests keep only what their own tests use; see tests/fixtures/__init__.py.
"""

pytest_plugins = [
    "tests.fixtures.communes",
    "tests.fixtures.clients",
    "tests.fixtures.bookings",
    "tests.fixtures.stripe",
]

# The longest tests first (longest-processing-time-first): xdist hands tests out in collection
# order as workers free up, so a long journey met at the very end would keep one worker busy
# while the other sits idle. Order is otherwise unchanged (a stable sort, the same on every
# worker, as xdist requires).
SLOW_FIRST = (
    "tests/browser/",
    "tests/billing/test_browser",
    "tests/badinput/",
    "tests/tenants/test_isolation.py",
    "tests/wallet/test_ledger_stateful.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid
        return next((i for i, prefix in enumerate(SLOW_FIRST) if path.startswith(prefix)), 99)

    items.sort(key=rank)
