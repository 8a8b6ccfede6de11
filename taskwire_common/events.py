"""The CloudEvents 1.0 envelope every Taskwire event travels in."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def new_event(event_type: str, source: str, data: dict, request_id: str | None = None) -> dict:
    """A structured-mode CloudEvent; `requestid` is an extension carrying the gateway's X-Request-ID."""
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": utc_now_iso(),
        "datacontenttype": "application/json",
        "data": data,
    }
    if request_id:
        event["requestid"] = request_id
    return event
