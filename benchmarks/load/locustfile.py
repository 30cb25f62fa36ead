"""The evening peak, as locust users (run by benchmarks/load/harness.py, never by hand-written
loops): parents browse their children's calendars, book a week for two children from the wallet
(half of them in one request, as the app does, the others through the cart) and cancel it;
agents open the kitchen headcounts; a baseline user asks `/healthz` (one `SELECT 1` through the
whole Django stack) so every operation is reported as a ratio to it, in the same run.

Everything goes through the public API contract (../shared/API.md) with Bearer tokens. Who logs
in is read from the JSON file named by MARELLE_LOAD_FIXTURE (written by the harness):
`{"slug", "product_id", "families": [{"token", "child_ids"}], "staff_tokens": [...],
"headcount_dates": [...]}`. Each parent user takes a family of its own, so two greenlets never
book for the same children; a booking is cancelled in the same iteration, so a run can last as
long as wanted and every iteration finds the same free days.

An answer that is not the one the contract promises is a failure (`catch_response`): the error
rate the harness reports counts 4xx as well as 5xx.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import random
import threading

from locust import HttpUser, between, task

with open(os.environ["MARELLE_LOAD_FIXTURE"], encoding="utf-8") as fixture_file:
    FIXTURE = json.load(fixture_file)

_families = itertools.cycle(FIXTURE["families"])
_parents = itertools.count()
_staff = itertools.cycle(FIXTURE["staff_tokens"])
_lock = threading.Lock()
API = f"/c/{FIXTURE['slug']}/api/v1"
PRODUCT_ID = FIXTURE["product_id"]
WAIT = between(FIXTURE.get("wait_min", 0.2), FIXTURE.get("wait_max", 1.0))


def _next(iterator):
    with _lock:
        return next(iterator)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


class Parent(HttpUser):
    """A parent in the evening: mostly looking at the calendar, sometimes booking a week."""

    weight = FIXTURE.get("parent_weight", 8)
    wait_time = WAIT

    def on_start(self) -> None:
        family = _next(_families)
        # Every other parent books with the app's « Réserver et payer » (one request), the
        # others through the cart, as the pages do.
        self.one_step = _next(_parents) % 2 == 0
        self.headers = _bearer(family["token"])
        self.child_ids = family["child_ids"]
        today = datetime.date.today()
        self.window = (today.isoformat(), (today + datetime.timedelta(days=42)).isoformat())

    def _calendar(self, child_id: int) -> list[dict]:
        params = {
            "product_id": PRODUCT_ID,
            "child_id": child_id,
            "from": self.window[0],
            "to": self.window[1],
        }
        with self.client.get(
            f"{API}/calendar",
            params=params,
            headers=self.headers,
            name="calendrier",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"calendrier: {response.status_code} {response.text[:200]}")
                return []
            return response.json()

    @task(5)
    def browse_calendar(self) -> None:
        self._calendar(random.choice(self.child_ids))

    @task(2)
    def book_a_week_then_cancel(self) -> None:
        days = self._calendar(self.child_ids[0])
        bookable = [day["date"] for day in days if day["status"] == "bookable"]
        if len(bookable) < 4:
            return
        # A random week among those open, so parents do not all take the same days.
        start = random.randrange(0, len(bookable) - 3)
        dates = bookable[start : start + 4]
        body = {"product_id": PRODUCT_ID, "child_ids": self.child_ids, "dates": dates}
        if not (self._book_in_one_step(body) if self.one_step else self._book_by_cart(body)):
            return
        with self.client.get(
            f"{API}/reservations",
            params={"from": dates[0], "to": dates[-1]},
            headers=self.headers,
            name="mes réservations",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"réservations: {response.status_code}")
                return
            body = response.json()
            listed = body["results"] if isinstance(body, dict) else body  # paginated
            ids = [r["id"] for r in listed if r["date"] in dates and r["status"] == "booked"]
        if len(ids) != len(dates) * len(self.child_ids):
            # Reported under its own name: the week paid is not the week listed.
            self.environment.events.request.fire(
                request_type="CHECK",
                name="semaine réservée complète",
                response_time=0,
                response_length=0,
                exception=AssertionError(f"{len(ids)} places listées"),
                context={},
            )
        for reservation_id in ids:
            with self.client.post(
                f"{API}/reservations/{reservation_id}/cancel",
                json={},
                headers=self.headers,
                name="annulation",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"annulation: {response.status_code} {response.text[:200]}")

    def _book_in_one_step(self, body: dict) -> bool:
        with self.client.post(
            f"{API}/reservations",
            json={**body, "payment_method": "wallet"},
            headers=self.headers,
            name="réserver et payer (app) : une semaine, 2 enfants",
            catch_response=True,
        ) as response:
            if response.status_code != 201 or response.json().get("status") != "paid":
                response.failure(f"réserver: {response.status_code} {response.text[:200]}")
                return False
        return True

    def _book_by_cart(self, body: dict) -> bool:
        with self.client.post(
            f"{API}/cart/items",
            json=body,
            headers=self.headers,
            name="panier : une semaine, 2 enfants",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"panier: {response.status_code} {response.text[:200]}")
                self._empty_cart()
                return False
        with self.client.post(
            f"{API}/cart/checkout",
            json={"payment_method": "wallet"},
            headers=self.headers,
            name="paiement (porte-monnaie)",
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201) or response.json().get("status") != "paid":
                response.failure(f"paiement: {response.status_code} {response.text[:200]}")
                self._empty_cart()
                return False
        return True

    def _empty_cart(self) -> None:
        cart = self.client.get(f"{API}/cart", headers=self.headers, name="panier (vider)")
        if cart.status_code != 200:
            return
        for item in cart.json().get("items", []):
            self.client.delete(
                f"{API}/cart/items/{item['id']}", headers=self.headers, name="panier (vider)"
            )


class Agent(HttpUser):
    """An agent opening the day's and the next days' kitchen headcounts."""

    weight = FIXTURE.get("staff_weight", 1)
    wait_time = WAIT

    def on_start(self) -> None:
        self.headers = _bearer(_next(_staff))

    @task
    def headcount(self) -> None:
        day = random.choice(FIXTURE["headcount_dates"])
        with self.client.get(
            f"{API}/staff/headcount",
            params={"date": day},
            headers=self.headers,
            name="effectifs (agent)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"effectifs: {response.status_code} {response.text[:200]}")


class Baseline(HttpUser):
    """The yardstick: the cheapest Django answer that still reads the database."""

    weight = FIXTURE.get("baseline_weight", 1)
    wait_time = WAIT

    @task
    def healthz(self) -> None:
        with self.client.get("/healthz", name="référence : /healthz", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"healthz: {r.status_code}")
