"""Where a webhook may be sent: http(s), no credentials in the URL, and (unless allowed) no host
that resolves to a private, loopback, link-local or otherwise internal address.

The check runs when an endpoint is saved and again before each delivery: a name that resolved to
a public address yesterday may point inside the network today (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to now (an IP literal is its own address)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})


def url_problem(url: str) -> str | None:
    """Why ``url`` may not receive webhooks, or None. Resolves the host (DNS)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError:
        return "Enter a valid URL."
    del port
    if parts.scheme not in ("http", "https"):
        return "Only http and https URLs can receive webhooks."
    if parts.username is not None or parts.password is not None:
        return "Leave credentials out of the URL: deliveries are authenticated by their signature."
    if not parts.hostname:
        return "The URL needs a host name."
    if private_targets_allowed():
        return None
    try:
        addresses = resolve(parts.hostname)
    except (OSError, UnicodeError):
        return f"The host {parts.hostname} does not resolve."
    internal = [a for a in addresses if _is_internal(ipaddress.ip_address(a))]
    if internal:
        return (
            f"The host {parts.hostname} resolves to an internal address ({internal[0]}); "
            "webhooks are only sent to public addresses."
        )
    return None


def url_check(url: str) -> None:
    """Raise a ValidationError on ``url`` when it may not receive webhooks."""
    problem = url_problem(url)
    if problem:
        raise ValidationError({"url": [problem]})
