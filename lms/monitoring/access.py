"""Who may read metrics: the machine itself (loopback), or whoever holds the metrics token.

The address is the one seen after ``LMS_PROXY_HOPS`` (werkzeug's ProxyFix in create_app):
behind nginx with ``LMS_PROXY_HOPS=1`` a visitor's own address, never nginx's. The nginx
site in deploy/ refuses ``/metrics`` from outside as well.
"""

from __future__ import annotations

import hmac
import ipaddress


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, else ''."""
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def allowed(*, address: str | None, authorization: str | None, token: str) -> bool:
    """Loopback, or the right token (compared in constant time; an empty setting: none)."""
    if is_loopback(address):
        return True
    given = bearer(authorization)
    return bool(token) and bool(given) and hmac.compare_digest(given.encode(), token.encode())
