"""Whose word on the client's address a service takes: X-Forwarded-* only from a trusted proxy (the gateway).

werkzeug's ProxyFix believes the headers of whoever connects. Behind it, a client that reached a
service directly could name any address and so choose what the login throttle counts. Here the
headers are read (by ProxyFix, one hop: the one nginx appends) only when the connection comes from
an address in TRUSTED_PROXIES; from anyone else they are removed and the peer's address stands.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

from .settings import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The WSGI names of the headers a proxy uses to pass on the client's address, scheme, host or path.
FORWARDING_PREFIXES = ("HTTP_X_FORWARDED_", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """TRUSTED_PROXIES' addresses and networks (`127.0.0.8`, `10.0.0.0/24`, `::1`); a bad one stops the process."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigurationError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
    return tuple(networks)


class TrustedProxyFix:
    """ProxyFix (one hop of X-Forwarded-For and -Proto) for a trusted peer; no forwarding headers for others."""

    def __init__(self, app: WSGIApplication, trusted: Iterable[str]):
        self.app = app
        self.trusted = trusted_networks(trusted)
        self.behind_proxy = ProxyFix(app, x_for=1, x_proto=1)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.is_trusted(environ.get("REMOTE_ADDR", "")):
            return self.behind_proxy(environ, start_response)
        for name in [name for name in environ if name.startswith(FORWARDING_PREFIXES)]:
            del environ[name]
        return self.app(environ, start_response)

    def is_trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:  # a Unix socket's peer, or none: not a proxy we know
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:  # an IPv4 peer on a dual-stack socket
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)
