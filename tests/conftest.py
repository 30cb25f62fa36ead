"""Root of the test suite: shared fixtures come from the plugin modules of tests/fixtures/.

Directory conftests keep only what their own tests use; see tests/fixtures/__init__.py.
"""

pytest_plugins = [
    "tests.fixtures.communes",
    "tests.fixtures.clients",
    "tests.fixtures.bookings",
    "tests.fixtures.stripe",
]
