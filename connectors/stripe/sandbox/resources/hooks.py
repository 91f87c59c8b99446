"""``/v1/events`` and ``/v1/webhook_endpoints``.

Events (stripe.com/docs/api/events/list; reference "Events and webhooks"): the last 30 days, newest
first; ``type`` with a ``*`` wildcard (``invoice.*``), ``types[]`` (at most 20, exact), ``created``
filters and ``delivery_success``. An event older than 30 days is neither listed nor retrievable.

Webhook endpoints: ``secret`` (``whsec_...``) is shown only in the create answer; ``enabled_events``
takes event types, ``*`` or wildcards; ``disabled=true`` stops deliveries.
"""

from __future__ import annotations

import re
from typing import Any

from .. import fields, ids, shapes
from ..errors import invalid, missing, required
from ..forms import Params, need
from ..listing import LIST_PARAMS, page
from ..runtime import EVENT_RETENTION_SECONDS, Sandbox, event_matches, track_changes

EVENT_TYPE = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def _retained(sb: Sandbox, event: dict[str, Any]) -> bool:
    return int(event["created"]) >= sb.now() - EVENT_RETENTION_SECONDS


def retrieve_event(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    event = sb.store.find("event", id)
    if event is None or not _retained(sb, event):
        raise missing("event", id)
    return event


def delivered(event: dict[str, Any]) -> bool:
    """Every webhook delivery of this event succeeded (an event nobody subscribed to counts as delivered)."""
    return all(state == "delivered" for state in event.get("_deliveries", {}).values())


def list_events(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "type", "types", "delivery_success")
    pattern = p.text("type")
    types = p.array("types")
    if pattern and types:
        raise invalid("You may only specify one of these parameters: type, types.", param="types")
    if types is not None:
        need(len(types) <= 20, "You may pass at most 20 types.", "types")
        need(all("*" not in str(t) for t in types), "types[] does not accept wildcards; use type.", "types")
    success = p.boolean("delivery_success")
    found = [e for e in sb.store.all("event") if _retained(sb, e)
             and (pattern is None or event_matches(pattern, e["type"]))
             and (types is None or e["type"] in types)
             and (success is None or delivered(e) == success)]
    return page(found, p, "/v1/events", "event")


# -- webhook endpoints ---------------------------------------------------------------------------
def _events(p: Params) -> list[str]:
    events = [str(e) for e in p.array("enabled_events") or []]
    if not events:
        raise required("enabled_events")
    for index, name in enumerate(events):
        need(bool(EVENT_TYPE.match(name)), f"Invalid event type: {name}", f"enabled_events[{index}]")
    return events


def _url(p: Params) -> str:
    url = p.need_text("url")
    need(bool(URL.match(url)), f"Invalid URL: {url}", "url")
    return url


def create_endpoint(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("url", "enabled_events", "description", "metadata", "api_version", "connect")
    endpoint = shapes.webhook_endpoint(sb.store.new_id("webhook_endpoint"), sb.now(), _url(p), _events(p))
    endpoint.update(fields.read(endpoint, p, {"description": "str", "metadata": "metadata", "api_version": "str"}))
    endpoint["_secret"] = "whsec_" + ids.token(sb.store.rng_seed, sb.store.next_seq(), 32)
    sb.store.add("webhook_endpoint", endpoint)
    answer = dict(endpoint)
    answer["secret"] = endpoint["_secret"]
    return answer


def retrieve_endpoint(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("webhook_endpoint", id, label="webhook endpoint")


def update_endpoint(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("url", "enabled_events", "description", "metadata", "disabled")
    endpoint = sb.store.get("webhook_endpoint", id, label="webhook endpoint")
    changes = fields.read(endpoint, p, {"description": "str", "metadata": "metadata"})
    if "url" in p:
        changes["url"] = _url(p)
    if "enabled_events" in p:
        changes["enabled_events"] = _events(p)
    if "disabled" in p:
        changes["status"] = "disabled" if p.boolean("disabled") else "enabled"
    track_changes(endpoint, changes)
    return endpoint


def delete_endpoint(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    sb.store.get("webhook_endpoint", id, label="webhook endpoint")
    sb.store.remove("webhook_endpoint", id)
    return shapes.deleted(id, "webhook_endpoint")


def list_endpoints(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("limit", "starting_after", "ending_before")
    return page(sb.store.all("webhook_endpoint"), p, "/v1/webhook_endpoints", "webhook endpoint")
