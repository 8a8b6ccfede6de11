"""The AsyncAPI 3.0 document of Taskwire's events and WebSocket feed, made from the contract modules.

`python -m broker.asyncapi` writes docs/asyncapi.json, which the gateway serves at
/api/asyncapi.json; a unit test fails when the committed file differs from what this makes. It lives
beside the topology it describes (the shared package never imports the broker package).
"""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from taskwire_common import event_schemas, socket_messages
from taskwire_common.contracts import CONTENT_TYPE, EVENT_TYPES

from . import topology

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = REPO / "docs" / "asyncapi.json"
AMQP_BINDING_VERSION = "0.3.0"
WS_BINDING_VERSION = "0.1.0"
FEED_CHANNEL = "feed"
WS_CHANNELS = {"/ws/tasks/": "wsTasks", "/ws/notifications/": "wsNotifications"}
CONSUMERS = {"task.*": "notify_svc's worker (queue notify_svc.tasks) and the feed stream",
             "user.*": "tasks_svc's worker (queue tasks_svc.users), its user directory",
             "auth.#": "every web worker's revocation list (an exclusive queue each)",
             "notification.*": "the feed stream"}
Document = dict[str, Any]


def channel_ref(channel: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{channel}"}


def message_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/messages/{name}"}


def event_message(event_type: str) -> Document:
    return {
        "name": event_type,
        "title": event_type,
        "summary": event_schemas.SUMMARIES[event_type],
        "contentType": CONTENT_TYPE,
        "payload": event_schemas.envelope_schema(event_type),
        "bindings": {"amqp": {"contentType": CONTENT_TYPE, "messageType": event_type,
                              "bindingVersion": AMQP_BINDING_VERSION}},
    }


def socket_message(name: str, schema: Document) -> Document:
    return {"name": name, "title": name, "summary": schema["description"], "contentType": "application/json",
            "payload": schema}


def read_by(event_type: str) -> str:
    family = event_type.split(".")[0]
    keys = [key for key in CONSUMERS if key.split(".")[0] == family]
    return "; ".join(CONSUMERS[key] for key in keys)


def event_channel(event_type: str) -> Document:
    return {
        "address": event_type,
        "title": f"{topology.EXCHANGE} / {event_type}",
        "description": f"Events of type {event_type} on the topic exchange {topology.EXCHANGE}, routed by "
                       f"their type. Read by {read_by(event_type)}.",
        "servers": [{"$ref": "#/servers/amqp"}],
        "messages": {event_type: message_ref(event_type)},
        "bindings": {"amqp": {"is": "routingKey", "bindingVersion": AMQP_BINDING_VERSION,
                              "exchange": {"name": topology.EXCHANGE, "type": "topic", "durable": True,
                                           "autoDelete": False}}},
    }


def feed_channel() -> Document:
    feed_types = [event_type for event_type in EVENT_TYPES
                  if any(event_type.startswith(key.rstrip("*")) for key in topology.FEED_ROUTING_KEYS)]
    return {
        "address": topology.FEED_STREAM,
        "title": "The feed stream",
        "description": "A RabbitMQ stream bound to " + ", ".join(topology.FEED_ROUTING_KEYS) + " on "
                       f"{topology.EXCHANGE}: every task and notification event in publish order, kept a day "
                       "by default; ws_relay reads it from any offset to serve live and resuming sockets. "
                       "It also holds the relay's own marks (type taskwire.feed.mark), shown to nobody.",
        "servers": [{"$ref": "#/servers/amqp"}],
        "messages": {event_type: message_ref(event_type) for event_type in feed_types},
        "bindings": {"amqp": {"is": "queue", "bindingVersion": AMQP_BINDING_VERSION,
                              "queue": {"name": topology.FEED_STREAM, "durable": True, "exclusive": False,
                                        "autoDelete": False}}},
    }


WS_QUERY = {
    "type": "object",
    "properties": {
        "ticket": {"type": "string", "description": "a single-use ticket valid 30 s from POST /api/auth/ws-ticket/"},
        "token": {"type": "string", "description": "a token, as existing clients send it (or the Authorization "
                                                   "header, Token or Bearer)"},
        "since": {"type": "string", "description": "the cursor of the last message received: replay what "
                                                   "followed it, then go live"},
    },
    "additionalProperties": False,
}


def close_codes_text() -> str:
    return "Close codes: " + "; ".join(f"{code}: {why}" for code, why in socket_messages.CLOSE_CODES.items()) + "."


def ws_channel(path: str) -> Document:
    what = "task events and the user's own notifications" if path == "/ws/tasks/" else "the user's notifications"
    return {
        "address": path,
        "title": f"WebSocket {path}",
        "description": f"Pushes {what} as compact JSON text frames. A socket opens with ?ticket= or ?token= "
                       "(or the Authorization header); `hello` is always first. " + close_codes_text(),
        "servers": [{"$ref": "#/servers/gateway"}],
        "messages": {**{name: message_ref(name) for name in socket_messages.PATH_MESSAGES[path]},
                     "client_text": message_ref("client_text")},
        "bindings": {"ws": {"method": "GET", "query": WS_QUERY, "bindingVersion": WS_BINDING_VERSION}},
        "x-close-codes": {str(code): why for code, why in socket_messages.CLOSE_CODES.items()},
    }


def operations() -> Document:
    ops: Document = {}
    for event_type in EVENT_TYPES:
        source = event_schemas.SOURCES[event_type].rsplit("/", 1)[-1]
        ops[f"publish.{event_type}"] = {
            "action": "send", "title": f"{source} publishes {event_type}",
            "description": "From the producer's transactional outbox, at least once, in commit order; "
                           "consumers deduplicate on the event id.",
            "channel": channel_ref(event_type),
            "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING_VERSION}},
        }
    ops["relay.readFeed"] = {
        "action": "receive", "title": "ws_relay reads the feed stream",
        "channel": channel_ref(FEED_CHANNEL),
        "messages": [{"$ref": f"#/channels/{FEED_CHANNEL}/messages/{name}"}
                     for name in feed_channel()["messages"]],
    }
    for path, channel in WS_CHANNELS.items():
        ops[f"{channel}.send"] = {
            "action": "send", "title": f"ws_relay sends on {path}",
            "channel": channel_ref(channel),
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}
                         for name in socket_messages.PATH_MESSAGES[path]],
        }
        ops[f"{channel}.receive"] = {
            "action": "receive", "title": f"ws_relay reads what a client sends on {path}, and drops it",
            "channel": channel_ref(channel),
            "messages": [{"$ref": f"#/channels/{channel}/messages/client_text"}],
        }
    return ops


def version() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"])


def document() -> Document:
    messages = {event_type: event_message(event_type) for event_type in EVENT_TYPES}
    messages.update({name: socket_message(name, schema) for name, schema in socket_messages.MESSAGE_SCHEMAS.items()})
    messages["client_text"] = {
        "name": "client_text", "title": "anything a client sends",
        "summary": "Clients have nothing to send: what they send is read and dropped.",
        "payload": {"type": "string", "maxLength": socket_messages.MAX_CLIENT_MESSAGE_BYTES,
                    "description": "up to 64 KiB; a larger message closes the socket with 1009"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Taskwire events and WebSocket feed",
            "version": version(),
            "description": "Every event Taskwire publishes on RabbitMQ (CloudEvents 1.0, structured mode) and "
                           "every WebSocket message its relay sends. Generated by `python -m "
                           "broker.asyncapi` from taskwire_common/contracts.py, event_schemas.py and "
                           "socket_messages.py; see docs/events.md and docs/websocket.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "amqp": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                     "pathname": "/taskwire",
                     "description": "RabbitMQ; the path is the dev profile's vhost (each profile has its own)."},
            "gateway": {"host": "127.0.0.1:8000", "protocol": "ws",
                        "description": "The nginx gateway (dev profile); wss behind TLS."},
        },
        "channels": {
            **{event_type: event_channel(event_type) for event_type in EVENT_TYPES},
            FEED_CHANNEL: feed_channel(),
            **{channel: ws_channel(path) for path, channel in WS_CHANNELS.items()},
        },
        "operations": operations(),
        "components": {"messages": messages, "schemas": event_schemas.component_schemas()},
    }


def render() -> str:
    return json.dumps(document(), indent=2) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT
    target.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
