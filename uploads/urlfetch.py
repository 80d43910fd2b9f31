"""Fetching an upload from a URL without opening an SSRF hole.

Only http(s); every address a name resolves to must be public, the connection goes to the
very address that was checked (no second DNS lookup an attacker could answer
differently), every redirect is checked the same way, and size and time are capped.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CHUNK = 64 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_EXTRA_BLOCKED = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "2001:db8::/32",
        "fc00::/7",
        "fec0::/10",
    )
]
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


class UrlFetchError(Exception):
    code = 400
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UrlRefused(UrlFetchError):
    pass


class UrlFetchFailed(UrlFetchError):
    pass


class UrlTooLarge(UrlFetchError):
    http_status = 413


@dataclass(frozen=True)
class FetchResult:
    final_url: str
    content_type: str | None
    filename: str | None
    size: int


def is_public_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and int(ip) >> 32 == 0 and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # deprecated ::a.b.c.d
        if embedded is not None and not is_public_address(embedded):
            return False
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED)


def _allowed(ip: IPAddress, allow_loopback: bool) -> bool:
    if allow_loopback and ip.is_loopback:
        return True
    return is_public_address(ip)


def _resolve(host: str, port: int, allow_loopback: bool) -> list[tuple[int, str]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlFetchFailed(f"Cannot resolve {host}: {exc}") from None
    addresses: list[tuple[int, str]] = []
    for family, _, _, _, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not _allowed(ip, allow_loopback):
            raise UrlRefused(f"URL refused: {host} resolves to a non-public address")
        addresses.append((family, str(ip)))
    if not addresses:
        raise UrlFetchFailed(f"Cannot resolve {host}")
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a pre-checked address while sending the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # SNI and certificate checks use the URL's host name, not the address.
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UrlRefused("URL refused: malformed URL") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise UrlRefused("URL refused: only http and https URLs are accepted")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("URL refused: credentials in URLs are not accepted")
    host = parts.hostname
    if not host:
        raise UrlRefused("URL refused: no host name")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _filename(response: http.client.HTTPResponse, url: str) -> str | None:
    disposition = response.getheader("Content-Disposition") or ""
    match = _FILENAME.search(disposition)
    if match:
        return os.path.basename(unquote(match.group(1)).replace("\\", "/")) or None
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return unquote(last) or None


def fetch_to_file(
    url: str,
    dest: BinaryIO,
    *,
    max_bytes: int,
    allow_loopback: bool = False,
    timeout: float = 10.0,
    total_timeout: float = 60.0,
    max_redirects: int = 3,
    user_agent: str = "Chevereto-Django/1.0",
) -> FetchResult:
    deadline = time.monotonic() + total_timeout
    current = url
    for _hop in range(max_redirects + 1):
        scheme, host, port, path = _parse(current)
        _family, address = _resolve(host, port, allow_loopback)[0]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UrlFetchFailed("URL fetch timed out")
        cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        conn = cls(host, port, address, min(timeout, remaining))
        try:
            default_port = 443 if scheme == "https" else 80
            host_header = host if port == default_port else f"{host}:{port}"
            if ":" in host and not host.startswith("["):
                host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host_header)
            conn.putheader("User-Agent", user_agent)
            conn.putheader("Accept", "image/*,video/*;q=0.9,*/*;q=0.5")
            conn.putheader("Connection", "close")
            conn.endheaders()
            response = conn.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise UrlFetchFailed(f"Redirect without a Location (HTTP {response.status})")
                current = urljoin(current, location)
                continue
            if response.status >= 300:
                raise UrlFetchFailed(f"The URL answered HTTP {response.status}")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise UrlTooLarge(f"File too big: {length} bytes")
            size = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise UrlFetchFailed("URL fetch timed out")
                if conn.sock is not None:
                    conn.sock.settimeout(min(timeout, left))
                # read1 returns what has arrived, so a slow drip cannot outlast the deadline.
                chunk = response.read1(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise UrlTooLarge("File too big")
                dest.write(chunk)
            return FetchResult(
                final_url=current,
                content_type=response.getheader("Content-Type"),
                filename=_filename(response, current),
                size=size,
            )
        except TimeoutError:
            raise UrlFetchFailed("URL fetch timed out") from None
        except ssl.SSLError as exc:
            raise UrlFetchFailed(f"TLS error: {exc.reason or exc}") from None
        except (http.client.HTTPException, OSError) as exc:
            raise UrlFetchFailed(f"Cannot fetch the URL: {exc.__class__.__name__}") from None
        finally:
            conn.close()
    raise UrlRefused(f"URL refused: more than {max_redirects} redirects")
