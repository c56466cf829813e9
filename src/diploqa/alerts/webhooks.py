"""Webhooks: which URLs are allowed, how a batch is signed, and one POST.

A webhook must not turn the server against its own network (SSRF): only ``http`` and
``https`` URLs without credentials, and every address the host name resolves to must be a
public one. Loopback, link-local (cloud metadata at 169.254.169.254), private, shared,
multicast and reserved ranges are refused unless the operator allows them
(``serve --allow-private-webhooks``). The check runs when a webhook is set and again at every
delivery, and the connection goes to the very address that was checked (a name that resolves
elsewhere the second time cannot slip through); redirects are not followed.

The receiver verifies the sender by :data:`SIGNATURE_HEADER`: ``sha256=`` and the hex
HMAC-SHA256 of the exact body under the webhook's secret (given once, when it was set), and
de-duplicates by the batch id (:data:`BATCH_HEADER`, also ``id`` in the body): a batch may
arrive more than once (at least once, never lost), always with the same id and body.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from .model import AlertsError

SIGNATURE_HEADER = "X-Diploqa-Signature"
BATCH_HEADER = "X-Diploqa-Batch"
#: Seconds one delivery may take (connect, send, answer).
TIMEOUT_SECONDS = 10.0
_MAX_URL_CHARS = 2000


class WebhookRefused(AlertsError):
    """The webhook URL is not allowed (scheme, credentials, or a non-public address)."""


class DeliveryFailed(AlertsError):
    """One delivery failed (no connection, a timeout, or an answer other than 2xx)."""


def sign(secret: str, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver checks (in constant time)."""
    return hmac.compare_digest(sign(secret, body), signature or "")


def _parts(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path with query)`` of an allowed URL."""
    if not isinstance(url, str) or not url.strip() or len(url) > _MAX_URL_CHARS:
        raise WebhookRefused("the webhook must be an http(s) URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise WebhookRefused(f"the webhook URL is malformed: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"the webhook must be an http(s) URL, not {url[:80]!r}")
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused("the webhook URL must not hold credentials: the body is signed")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def is_public(address: str) -> bool:
    """Whether ``address`` is a public unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses of ``host``, each checked.

    Raises:
        WebhookRefused: the name does not resolve, or an address is not public (unless
            ``allow_private``).
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise WebhookRefused(f"the webhook host {host!r} does not resolve: {err}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise WebhookRefused(
                    f"the webhook host {host!r} is on a loopback, link-local or private "
                    f"address ({address}): refused unless the server runs with "
                    "--allow-private-webhooks"
                )
    return addresses


def check_webhook_url(url: str, allow_private: bool = False) -> str:
    """``url`` (trimmed) if a webhook may go there now.

    Raises:
        WebhookRefused: it may not (see the module's rules).
    """
    _, host, port, _ = _parts(url)
    resolve(host, port, allow_private)
    return url.strip()


class _Pinned(http.client.HTTPConnection):
    """HTTP to a checked address, with the URL's host name in the ``Host`` header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTls(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified for the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str,
    body: bytes,
    secret: str,
    batch_id: str,
    allow_private: bool = False,
    timeout: float = TIMEOUT_SECONDS,
) -> int:
    """POST one signed batch; returns the receiver's status (2xx).

    Raises:
        WebhookRefused: the URL is no longer allowed (its name now resolves to a private
            address, say).
        DeliveryFailed: no connection, a timeout, or an answer other than 2xx.
    """
    scheme, host, port, path = _parts(url)
    address = resolve(host, port, allow_private)[0]
    kind = _PinnedTls if scheme == "https" else _Pinned
    connection = kind(host, port, address, timeout)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "diploqa-alerts",
        BATCH_HEADER: batch_id,
        SIGNATURE_HEADER: sign(secret, body),
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        status = response.status
    except (OSError, http.client.HTTPException) as err:
        raise DeliveryFailed(f"{type(err).__name__}: {err}"[:300]) from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the receiver answered HTTP {status}")
    return status
