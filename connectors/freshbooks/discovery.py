"""Which FreshBooks business to work in, from ``GET /auth/api/v1/users/me``.

One login can belong to several businesses, and each URL family wants a different id of the
same business (account_id for accounting, business_id for projects and time tracking,
business_uuid for ledger accounts and newer reports), all found in
``business_memberships[].business`` (reference §3.1; the membership's own ``id`` is *not* the
business id). With several businesses and none configured we refuse to guess and list them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from syncengine.errors import ConfigError

__all__ = ["Business", "choose_business", "list_businesses"]


@dataclass(frozen=True, slots=True)
class Business:
    business_id: int
    business_uuid: str
    account_id: str
    name: str
    role: str | None = None
    identity: Mapping[str, Any] = field(default_factory=dict, compare=False)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        return f"{self.business_id} ({self.name!r}, account {self.account_id})"


def list_businesses(identity: Mapping[str, Any]) -> list[Business]:
    found: list[Business] = []
    for membership in identity.get("business_memberships") or []:
        business = membership.get("business") if isinstance(membership, Mapping) else None
        if not isinstance(business, Mapping) or business.get("id") is None:
            continue
        found.append(
            Business(
                business_id=int(business["id"]),
                business_uuid=str(business.get("business_uuid") or ""),
                account_id=str(business.get("account_id") or ""),
                name=str(business.get("name") or ""),
                role=membership.get("role"),
                identity=identity,
                raw=business,
            )
        )
    return found


def choose_business(identity: Mapping[str, Any], business_id: int | None, *, connector: str) -> Business:
    """The configured business, or the only one; a ConfigError listing them all otherwise."""
    found = list_businesses(identity)
    listing = "; ".join(b.describe() for b in found)
    if not found:
        raise ConfigError(
            f"{connector}: the authorized FreshBooks user belongs to no business",
            hint="authorize with a user who is a member of the business to sync",
        )
    if business_id is not None:
        for business in found:
            if business.business_id == int(business_id):
                return business
        raise ConfigError(
            f"{connector}: business_id {business_id} is not one of this login's businesses: {listing}",
            hint="set business_id to one of those ids",
        )
    if len(found) > 1:
        raise ConfigError(
            f"{connector}: this FreshBooks login belongs to {len(found)} businesses: {listing}",
            hint=f"set business_id in the {connector} connector config to the one to sync",
        )
    return found[0]
