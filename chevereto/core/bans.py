"""IP bans: one address or a network (IPv4 or IPv6 CIDR), optionally until a date.

Every request is checked (chevereto.core.banmiddleware) against a per-process copy of the
live bans, refreshed every few seconds and dropped on every write made here, so a check
costs a dictionary lookup per distinct prefix length, not a query. Expiry is compared at
lookup time: an expired ban stops applying at once, even from the cached copy.

These services do not write the audit log: the caller (dashboard action, API view,
command) records its one entry for the whole action.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chevereto.core.models import IpBan

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Other processes see a new ban after at most this long; the writing process at once.
CACHE_SECONDS = 5.0

_EXAMPLES = "for example 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32"


def network_normalize(text: str) -> str:
    """The one spelling of an address or CIDR range: host bits cleared, IPv6 compressed, a
    full-length prefix written as the bare address ("203.0.113.7/32" → "203.0.113.7").

    Raises ValidationError on anything else, and on a /0 (it would ban every visitor).
    """
    raw = (text or "").strip()
    if not raw:
        raise ValidationError(f"Enter an IP address or a CIDR range ({_EXAMPLES}).")
    # Python accepts an IPv6 zone ("fe80::1%eth0"); a zone means nothing to a remote client.
    if "%" in raw or any(ch.isspace() for ch in raw):
        raise ValidationError(f"{raw[:60]!r} is not an IP address or CIDR range ({_EXAMPLES}).")
    try:
        if "/" in raw:
            network: Network = ipaddress.ip_network(raw, strict=False)
        else:
            network = ipaddress.ip_network(ipaddress.ip_address(raw))
    except ValueError:
        raise ValidationError(
            f"{raw[:60]!r} is not an IP address or CIDR range ({_EXAMPLES})."
        ) from None
    if network.prefixlen == 0:
        raise ValidationError("A /0 range would ban every address.")
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _network_of(ip: str) -> Network:
    return ipaddress.ip_network(ip, strict=False)


def _address_of(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; IPv4 bans must match them.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class _LiveBans:
    loaded_at: float
    # (version, prefix length) → network → ban: one lookup per distinct prefix length.
    by_prefix: dict[tuple[int, int], dict[Network, IpBan]]


_cache: _LiveBans | None = None


def ip_bans_clear_cache() -> None:
    global _cache
    _cache = None


def ip_bans_cache_known_empty() -> None:
    """Take the table as empty without reading it: for a process that knows it is (each
    test starts on an empty table), so the first request costs no query."""
    global _cache
    _cache = _LiveBans(loaded_at=time.monotonic(), by_prefix={})


def _live_bans() -> _LiveBans:
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached.loaded_at < CACHE_SECONDS:
        return cached
    by_prefix: dict[tuple[int, int], dict[Network, IpBan]] = {}
    for ban in ip_bans_live():
        try:
            network = _network_of(ban.ip)
        except ValueError:
            continue  # a row written around the services; it cannot match anything
        by_prefix.setdefault((network.version, network.prefixlen), {})[network] = ban
    fresh = _LiveBans(loaded_at=now, by_prefix=by_prefix)
    _cache = fresh
    return fresh


def ip_ban_for(address: str) -> IpBan | None:
    """The live ban covering `address` (the narrowest one when several do), or None."""
    live = _live_bans()
    if not live.by_prefix:
        return None
    ip = _address_of(address)
    if ip is None:
        return None
    now = timezone.now()
    # Longest prefix first: the most specific ban's message is the one shown.
    for version, prefixlen in sorted(live.by_prefix, key=lambda k: -k[1]):
        if version != ip.version:
            continue
        supernet = ipaddress.ip_network((ip, prefixlen), strict=False)
        ban = live.by_prefix[(version, prefixlen)].get(supernet)
        if ban is not None and (ban.expires_at is None or ban.expires_at > now):
            return ban
    return None


def ip_bans_live() -> QuerySet[IpBan]:
    return IpBan.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def ip_bans_list(*, q: str = "", active: bool | None = None) -> QuerySet[IpBan]:
    """Bans newest first; `q` matches the address text or the message, `active` keeps the
    live (True) or the expired (False) ones."""
    bans = IpBan.objects.all()
    if q:
        bans = bans.filter(Q(ip__icontains=q) | Q(message__icontains=q))
    if active is True:
        bans = bans.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
    elif active is False:
        bans = bans.filter(expires_at__lte=timezone.now())
    return bans.order_by("-created_at", "-id")


def ip_ban_get(ip: str) -> IpBan | None:
    """The ban row for an address or range as written in any spelling, or None (also for
    text that is no address)."""
    try:
        normalized = network_normalize(ip)
    except ValidationError:
        return None
    return IpBan.objects.filter(ip=normalized).first()


def ip_ban_covers(ban_ip: str, address: str) -> bool:
    """Whether the normalised ban text `ban_ip` would apply to `address`."""
    ip = _address_of(address)
    if ip is None:
        return False
    network = _network_of(ban_ip)
    return network.version == ip.version and ip in network


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry date must be in the future."})


def ip_ban_create(
    *, ip: str, message: str = "", expires_at: datetime | None = None, actor: Any = None
) -> IpBan:
    """Ban an address or range. An expired ban of the same range is renewed in place; a live
    one is refused (edit it instead)."""
    try:
        normalized = network_normalize(ip)
    except ValidationError as exc:
        raise ValidationError({"ip": exc.messages}) from None
    _check_expiry(expires_at)
    creator = actor if getattr(actor, "pk", None) is not None else None
    with transaction.atomic():
        ban = IpBan.objects.select_for_update().filter(ip=normalized).first()
        if ban is not None and ban.is_active:
            raise ValidationError({"ip": f"{normalized} is already banned."})
        if ban is None:
            ban = IpBan.objects.create(
                ip=normalized, message=message, expires_at=expires_at, created_by=creator
            )
        else:
            ban.message, ban.expires_at, ban.created_by = message, expires_at, creator
            ban.created_at = timezone.now()
            ban.save()
    ip_bans_clear_cache()
    return ban


_UNSET: Any = object()


def ip_ban_update(
    *, ban: IpBan, message: str = _UNSET, expires_at: datetime | None = _UNSET
) -> IpBan:
    """Change a ban's message and/or expiry (None: never expires)."""
    fields = ["updated_at"]
    if message is not _UNSET:
        ban.message = message
        fields.append("message")
    if expires_at is not _UNSET:
        ban.expires_at = expires_at
        fields.append("expires_at")
    ban.save(update_fields=fields)
    ip_bans_clear_cache()
    return ban


def ip_ban_delete(*, ban: IpBan) -> None:
    ban.delete()
    ip_bans_clear_cache()
