"""Page tests of the UI review: reuse the bookings fixtures (canteen, enrolled family, time)."""

from tests.bookings.conftest import canteen, frozen, parent  # noqa: F401
