"""The one client-address resolver: X-Forwarded-For is trusted only as deep as our own proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from shared_apps.common.client_ip import UNKNOWN, client_ip

PROXY = "10.0.0.2"


def _request(xff: str | None = None, remote: str | None = PROXY):
    meta = {}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    request = RequestFactory().get("/", **meta)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    return request


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("198.51.100.7")) == PROXY


def test_with_one_proxy_the_right_most_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("1.2.3.4, 5.6.7.8, 198.51.100.7")) == "198.51.100.7"


def test_with_two_proxies_the_entry_written_by_the_outer_one_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("1.2.3.4, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"


@pytest.mark.parametrize("xff", ["", "not-an-address", "198.51.100.7:443"])
def test_a_missing_or_garbled_header_falls_back_to_the_peer(settings, xff):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(xff)) == PROXY


def test_a_header_shorter_than_the_proxy_chain_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("198.51.100.7")) == PROXY


def test_one_address_has_one_spelling(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(remote="::ffff:198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request(remote="2001:DB8::1")) == "2001:db8::1"


def test_no_peer_at_all_is_unknown(settings):
    assert client_ip(_request(remote=None)) == UNKNOWN
