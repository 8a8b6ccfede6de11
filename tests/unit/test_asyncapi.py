"""The AsyncAPI document: committed as generated, whole, and true of what the constructors and builders make."""
import json
import uuid
from datetime import date, datetime, timezone

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from broker import asyncapi
from notify_svc import rules as notify_rules
from notify_svc.schemas import NotificationSchema
from tasks_svc import models as task_models, services as task_services
from tasks_svc.schemas import TaskSchema
from taskwire_common import contracts, event_schemas, socket_messages
from tests.support import asyncapi_payload_errors
from users_svc import models as user_models
from users_svc.schemas import UserSchema
from ws_relay import hub

NOW = datetime(2026, 11, 26, 15, 40, 30, 690000, tzinfo=timezone.utc)
TASK = TaskSchema().dump({"id": 7, "title": "Fix login", "description": "", "priority": "high", "status": "todo",
                          "due_date": date(2026, 12, 1), "assigned_user": 3, "created_by": 1,
                          "created_at": NOW, "updated_at": NOW, "version": 2})
NOTIFICATION = NotificationSchema().dump({"id": 3, "user": 3, "message": "root assigned you Fix login",
                                          "is_read": False, "created_at": NOW, "task_id": 7,
                                          "event_type": "task.created", "kind": "assigned", "count": 1})
USER = UserSchema().dump({"id": 3, "username": "ann", "email": "ann@example.com", "role": "user", "is_active": True,
                          "is_staff": False, "is_superuser": False, "date_joined": NOW, "last_login": None,
                          "version": 2})
ROOT = contracts.Actor(1, "root")
EVENTS = [
    contracts.task_created({**TASK, "version": 1}, ROOT, "req-1"),
    contracts.task_updated(TASK, {"assigned_user": [None, 3], "due_date": [None, "2026-12-01"]}, ROOT),
    contracts.task_deleted(TASK, ROOT),
    contracts.notification_created(NOTIFICATION, "req-1"),
    contracts.token_revoked(3, jti=uuid.uuid4().hex, expires_at=1_800_000_000),
    contracts.token_revoked(3, token_version=1),
    contracts.user_created({**USER, "version": 1}, 1, None),
    contracts.user_updated(USER, 2, {"role": ["admin", "user"], "is_staff": [True, False]}, 1),
    contracts.notification_updated({**NOTIFICATION, "event_type": "task.updated", "kind": "updated", "count": 5}),
    contracts.notification_created({**NOTIFICATION, "event_type": "reminder.overdue", "kind": "overdue"}),
]


@pytest.fixture(scope="module")
def document():
    return json.loads(asyncapi.render())


def resolve(document, reference: str):
    assert reference.startswith("#/"), reference
    node = document
    for part in reference[2:].split("/"):
        node = node[part]
    return node


def test_the_committed_document_is_what_the_generator_makes_now():
    assert asyncapi.DOCUMENT.read_text(encoding="utf-8") == asyncapi.render(), \
        "docs/asyncapi.json is stale: run `python -m broker.asyncapi`"


def test_it_is_an_asyncapi_3_document_whose_references_all_resolve(document):
    assert document["asyncapi"] == "3.0.0"
    for name, channel in document["channels"].items():
        assert channel["address"] and channel["messages"], name
        for message in channel["messages"].values():
            assert "payload" in resolve(document, message["$ref"])
        for server in channel["servers"]:
            assert resolve(document, server["$ref"])["protocol"] in ("amqp", "ws")
    for name, operation in document["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel = resolve(document, operation["channel"]["$ref"])
        for message in operation["messages"]:
            # an operation's messages are a subset of its channel's
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
            assert resolve(document, message["$ref"]) in channel["messages"].values()
    text = json.dumps(document)
    for reference in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        resolve(document, reference)


def test_every_event_type_and_every_socket_message_is_described(document):
    for event_type in contracts.EVENT_TYPES:
        assert document["channels"][event_type]["address"] == event_type
        assert any(op["action"] == "send" and op["channel"]["$ref"] == f"#/channels/{event_type}"
                   for op in document["operations"].values())
    for name in socket_messages.MESSAGE_SCHEMAS:
        assert name in document["channels"]["wsTasks"]["messages"]
    assert "task_update" not in document["channels"]["wsNotifications"]["messages"]
    for channel in ("wsTasks", "wsNotifications"):
        binding = document["channels"][channel]["bindings"]["ws"]
        assert set(binding["query"]["properties"]) == {"ticket", "token", "since"}
        close_codes = {"4401", "4403", "4429", "1008", "1009", "1012", "1013"}
        assert set(document["channels"][channel]["x-close-codes"]) == close_codes
    assert set(document["channels"]["feed"]["messages"]) == {*contracts.TASK_EVENT_TYPES,
                                                              *contracts.NOTIFICATION_EVENT_TYPES}


def test_every_payload_and_schema_is_a_valid_json_schema(document):
    # No AsyncAPI validator works offline here: the payloads are checked as JSON Schema, in both
    # the draft AsyncAPI's schema format extends (07) and the one the tests validate with (2020-12).
    schemas = [message["payload"] for message in document["components"]["messages"].values()]
    for schema in [*schemas, *document["components"]["schemas"].values()]:
        Draft7Validator.check_schema(schema)
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event["type"])
def test_every_constructors_event_matches_its_schema(document, event):
    assert asyncapi_payload_errors(document, event["type"], json.loads(json.dumps(event))) == []


def test_an_event_with_a_field_the_schema_does_not_name_fails_it(document):
    event = contracts.task_created({**TASK, "colour": "red"}, ROOT)
    assert asyncapi_payload_errors(document, "task.created", event)
    assert asyncapi_payload_errors(document, "task.deleted", contracts.task_created(TASK, ROOT))


def test_every_socket_builders_message_matches_its_schema(document):
    task_event = contracts.read_task_event(EVENTS[1])
    notification_event = contracts.read_notification_event(EVENTS[3])
    messages = [socket_messages.hello_message("1834.48ac6bee", 3),
                socket_messages.task_update_message(task_event, "1835.5673e7dd"),
                socket_messages.notification_message(notification_event, "1837.64253c36"),
                socket_messages.resync_message("1840.9f5aad08"),
                socket_messages.cursor_message("4352.0c1d9e77")]
    assert {message["type"] for message in messages} == set(socket_messages.MESSAGE_SCHEMAS)
    for message in messages:
        wire = json.loads(socket_messages.encode_message(message))
        assert asyncapi_payload_errors(document, message["type"], wire) == []


def test_the_schemas_name_exactly_what_the_services_serialise():
    assert set(event_schemas.TASK["properties"]) == set(TaskSchema().fields)
    assert set(event_schemas.NOTIFICATION["properties"]) == set(NotificationSchema().fields)
    assert set(event_schemas.USER["properties"]) == set(UserSchema().fields)
    assert event_schemas.PRIORITIES == task_models.PRIORITIES and event_schemas.STATUSES == task_models.STATUSES
    assert event_schemas.ROLES == user_models.ROLES
    assert event_schemas.NOTIFICATION_KINDS == notify_rules.KINDS
    assert event_schemas.REMINDER_EVENT_TYPES == tuple(notify_rules.REMINDER_EVENT_TYPES.values())
    assert event_schemas.TASK_WRITABLE == task_services.WRITABLE


def test_the_close_codes_are_the_relays():
    relay_codes = {hub.UNAUTHORIZED, hub.FORBIDDEN_ORIGIN, hub.PING_TIMEOUT, hub.SERVICE_RESTART, hub.TRY_AGAIN_LATER,
                   hub.TOO_MANY_SOCKETS}
    assert relay_codes | {1009} == set(socket_messages.CLOSE_CODES)  # 1009: simple-websocket's max_message_size
