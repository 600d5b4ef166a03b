"""Network diversity: referring domains, the addresses that serve them, and
their subnets.

Many referring domains on one /24 (IPv4) or /48 (IPv6) are one network more
often than many independent endorsements; Majestic reports the ratio of
referring IPs to subnets for that reason. Pure: addresses in, groups out.
An address is the one that served the domain's latest stored page; through a
proxy it is the proxy's (README, "Network diversity").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["diversity", "group_by_subnet", "subnet"]

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def subnet(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of an address, or None if it is
    none (an IPv4-mapped IPv6 address counts as the IPv4 one)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def group_by_subnet(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Referring-domain rows (source_domain, ip, subnet, edges) grouped by
    subnet, most domains first; domains of no known address last, as one group."""
    groups: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        key = row.get("subnet")
        group = groups.setdefault(
            key, {"subnet": key, "refdomains": 0, "ips": set(), "edges": 0, "domains": []}
        )
        group["refdomains"] += 1
        if row.get("ip"):
            group["ips"].add(row["ip"])
        group["edges"] += row.get("edges", 0)
        group["domains"].append(row["source_domain"])
    out = []
    for group in groups.values():
        group["ips"] = len(group["ips"])
        group["domains"] = " ".join(sorted(group["domains"]))
        out.append(group)
    out.sort(key=lambda g: (g["subnet"] is None, -g["refdomains"], g["subnet"] or ""))
    return out


def diversity(addresses: Mapping[str, str | None]) -> dict[str, Any]:
    """Referring domains, distinct IPs and subnets among `addresses` (domain ->
    ip), and the ratio of IPs to subnets (None without any)."""
    ips = {ip for ip in addresses.values() if ip}
    subnets = {subnet(ip) for ip in ips} - {None}
    return {
        "refdomains": len(addresses),
        "ips": len(ips),
        "subnets": len(subnets),
        "ip_subnet_ratio": round(len(ips) / len(subnets), 2) if subnets else None,
        "unknown": sum(1 for ip in addresses.values() if not ip),
    }
