"""Webhooks: which addresses are refused, the signature a receiver checks, one POST."""

from __future__ import annotations

import pytest
from webhook_receiver import Receiver

from diploqa.alerts.webhooks import (
    BATCH_HEADER,
    SIGNATURE_HEADER,
    DeliveryFailed,
    WebhookRefused,
    check_webhook_url,
    is_public,
    post,
    sign,
    verify,
)


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False), ("::1", False),
     ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False),
     ("fe80::1", False), ("fc00::1", False), ("100.64.0.1", False), ("0.0.0.0", False),
     ("224.0.0.1", False), ("::ffff:10.0.0.1", False), ("::ffff:8.8.8.8", True)],
)  # fmt: skip
def test_only_public_unicast_addresses_are_public(address, public):
    assert is_public(address) is public


def test_the_signature_is_hmac_sha256_of_the_exact_body():
    body = b'{"id": "b1", "answers": []}'
    signature = sign("s3cret", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("s3cret", body, signature)
    assert not verify("s3cret", body + b" ", signature)
    assert not verify("other", body, signature) and not verify("s3cret", body, "")


def test_a_post_is_signed_and_goes_to_allowed_addresses_only():
    with Receiver() as hook:
        with pytest.raises(WebhookRefused, match="allow-private-webhooks"):
            post(hook.url, b"{}", "s3cret", "b1")
        assert hook.deliveries == [] and hook.failed == []
        assert post(hook.url + "?team=1", b'{"id": "b1"}', "s3cret", "b1",
                    allow_private=True) == 200  # fmt: skip
        [delivery] = hook.deliveries
        assert delivery.path == "/hook?team=1" and delivery.body == b'{"id": "b1"}'
        assert delivery.headers[BATCH_HEADER.lower()] == "b1"
        assert verify("s3cret", delivery.body, delivery.headers[SIGNATURE_HEADER.lower()])
        assert delivery.headers["content-type"].startswith("application/json")
        hook.fail(1)
        with pytest.raises(DeliveryFailed, match="HTTP 500"):
            post(hook.url, b"{}", "s3cret", "b2", allow_private=True)
        hook.status = 302  # a redirect is not followed: not delivered
        with pytest.raises(DeliveryFailed, match="HTTP 302"):
            post(hook.url, b"{}", "s3cret", "b3", allow_private=True)
    with pytest.raises(DeliveryFailed, match="Connection"):
        post(hook.url, b"{}", "s3cret", "b4", allow_private=True, timeout=2)


def test_url_rules_are_one_clear_line():
    # a public address (a literal: the tests run without DNS)
    assert check_webhook_url(" https://8.8.8.8/hook ") == "https://8.8.8.8/hook"
    with pytest.raises(WebhookRefused, match="does not resolve"):
        check_webhook_url("https://no-such-host.invalid/hook")
    with pytest.raises(WebhookRefused, match="must not hold credentials"):
        check_webhook_url("https://user:pw@example.org/")
    with pytest.raises(WebhookRefused, match="malformed"):
        check_webhook_url("http://example.org:99999/")
