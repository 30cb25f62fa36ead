"""Reminders before the booking deadline: the right families of the right commune, once per
week, never to a parent who turned them off."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import checkout
from tenant_apps.bookings.tasks import (
    send_booking_reminders_everywhere,
    send_booking_reminders_task,
)
from tests.fixtures.bookings import PARIS, make_family
from tests.fixtures.clients import link_in

pytestmark = pytest.mark.django_db

# NOW is Thursday 3 December 2026, 10:00: next week's Monday (7th) closes today at noon.
NEXT_TUESDAY = datetime.date(2026, 12, 8)


def _recipients(mailoutbox) -> list[str]:
    return sorted(address for message in mailoutbox for address in message.to)


def test_an_enrolled_family_with_nothing_booked_is_reminded_once(
    frozen, commune_a, in_commune, canteen, parent, run_job, mailoutbox
):
    run_job(send_booking_reminders_task, commune_a.schema_name)
    run_job(send_booking_reminders_task, commune_a.schema_name)  # the same day again: nothing

    assert _recipients(mailoutbox) == [parent.email]
    message = mailoutbox[0]
    assert "Pensez à réserver" in message.subject and "Cantine" in message.subject
    assert "jeudi 3 décembre à 12 h 00" in message.body
    assert "/c/commune-a/reserver/" in link_in(message, "/reserver/")
    assert link_in(message, "/compte/")


def test_a_family_that_booked_next_week_is_not_reminded(
    frozen, commune_a, in_commune, canteen, parent, run_job, mailoutbox
):
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    with in_commune(commune_a):
        add_to_cart(
            commune=commune_a,
            user=parent,
            product_id=canteen.pk,
            child_ids=[parent.kids[0].pk],
            dates=[NEXT_TUESDAY.isoformat()],
        )
        checkout(commune=commune_a, user=parent, payment_method="wallet")

    run_job(send_booking_reminders_task, commune_a.schema_name)

    assert _recipients(mailoutbox) == [other.email]


def test_no_reminder_while_the_deadline_is_far(
    commune_a, in_commune, canteen, parent, run_job, mailoutbox
):
    # Monday 30 November: next week's first deadline (Thursday noon) is 76 hours away.
    with time_machine.travel(datetime.datetime(2026, 11, 30, 8, 0, tzinfo=PARIS), tick=False):
        run_job(send_booking_reminders_task, commune_a.schema_name)
    assert mailoutbox == []


def test_a_parent_who_turned_reminders_off_through_the_api_is_not_reminded(
    frozen, commune_a, in_commune, canteen, parent, run_job, mailoutbox
):
    answer = parent.api.patch("/api/v1/me", {"booking_reminders": False}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["booking_reminders"] is False
    assert parent.api.get("/api/v1/me").json()["booking_reminders"] is False

    run_job(send_booking_reminders_task, commune_a.schema_name)
    assert mailoutbox == []

    parent.api.patch("/api/v1/me", {"booking_reminders": True}, format="json")
    run_job(send_booking_reminders_task, commune_a.schema_name)
    assert _recipients(mailoutbox) == [parent.email]


def test_the_account_page_turns_reminders_off(
    frozen, client, commune_a, in_commune, canteen, parent, run_job, mailoutbox
):
    client.force_login(parent)
    page = client.get(reverse("accounts:profile"))
    assert "Recevoir un rappel par e-mail avant la date limite de réservation" in page.text
    answer = client.post(
        reverse("accounts:profile"),
        {
            "first_name": parent.first_name,
            "last_name": parent.last_name,
            "phone": parent.phone,
            "address": parent.address,
        },
    )
    assert answer.status_code == 302  # the box left unticked: reminders off

    run_job(send_booking_reminders_task, commune_a.schema_name)
    assert mailoutbox == []


def test_each_commune_reminds_only_its_own_families(
    frozen, commune_a, commune_b, in_commune, canteen, canteen_b, parent, run_job, mailoutbox
):
    family_b = make_family(commune_b, in_commune, canteen_b.service)

    run_job(send_booking_reminders_task, commune_a.schema_name)
    assert _recipients(mailoutbox) == [parent.email]  # B's family is not A's to remind

    mailoutbox.clear()
    run_job(send_booking_reminders_everywhere)  # A's already told: only B's family now
    assert _recipients(mailoutbox) == [family_b.email]
    assert "/c/commune-b/reserver/" in link_in(mailoutbox[0], "/reserver/")
