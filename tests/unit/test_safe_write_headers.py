"""If-Match, If-None-Match and Idempotency-Key as a service reads them: pure header logic, no database."""
import pytest
from flask import Flask

from taskwire_common.conditional import Preconditions
from taskwire_common.idempotency import InvalidKey, requested_key


def preconditions(**headers):
    app = Flask(__name__)
    with app.test_request_context(headers={name.replace("_", "-"): value for name, value in headers.items()}):
        from flask import request
        return Preconditions.of(request)


@pytest.mark.parametrize("if_match,allowed", [
    ('"3"', True), ("3", True), ("*", True), ('"1", "3"', True),
    ('"2"', False), ('W/"3"', False), ('"stale"', False), ('""', False),
])
def test_if_match_allows_a_write_only_at_a_version_it_names_strongly(if_match, allowed):
    assert preconditions(If_Match=if_match).allow_write(3) is allowed


def test_without_conditions_every_write_and_read_passes():
    unconditional = preconditions()
    assert unconditional.allow_write(7) and unconditional.allow_read(7)
    assert not unconditional.client_has(7)


@pytest.mark.parametrize("if_none_match,allowed", [("*", False), ('"3"', False), ('W/"3"', False), ('"2"', True)])
def test_if_none_match_refuses_a_write_at_a_version_it_names_weakly(if_none_match, allowed):
    assert preconditions(If_None_Match=if_none_match).allow_write(3) is allowed


@pytest.mark.parametrize("if_none_match,has", [('"3"', True), ('W/"3"', True), ('"2", "3"', True), ("*", True),
                                               ('"2"', False)])
def test_if_none_match_tells_a_client_whose_copy_is_current(if_none_match, has):
    assert preconditions(If_None_Match=if_none_match).client_has(3) is has


def test_a_read_with_another_if_match_is_refused():
    assert not preconditions(If_Match='"2"').allow_read(3)
    assert preconditions(If_Match='"3"').allow_read(3)


def key_of(headers, body, caller="user:1", secret_fields=(), path="/api/tasks/"):
    app = Flask(__name__)
    with app.test_request_context(path, method="POST", headers=headers, json=body):
        return requested_key(caller, secret_fields)


def test_no_header_is_no_key():
    assert key_of({}, {"title": "x"}) is None


def test_the_same_body_in_another_key_order_has_the_same_fingerprint():
    first = key_of({"Idempotency-Key": "k1"}, {"title": "x", "priority": "high"})
    second = key_of({"Idempotency-Key": '"k1"'}, {"priority": "high", "title": "x"})
    assert first == second and first.key == "k1"


@pytest.mark.parametrize("changed", [{"body": {"title": "y"}}, {"path": "/api/auth/users/"}])
def test_another_body_or_path_has_another_fingerprint(changed):
    base = {"headers": {"Idempotency-Key": "k1"}, "body": {"title": "x"}}
    assert key_of(**base).fingerprint != key_of(**{**base, **changed}).fingerprint


def test_secret_fields_are_no_part_of_the_fingerprint():
    one = key_of({"Idempotency-Key": "k"}, {"username": "ann", "password": "first-one"}, secret_fields=["password"])
    two = key_of({"Idempotency-Key": "k"}, {"username": "ann", "password": "other-one"}, secret_fields=["password"])
    assert one.fingerprint == two.fingerprint


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "a\tb", "é", '""'])
def test_a_malformed_key_is_refused(key):
    with pytest.raises(InvalidKey):
        key_of({"Idempotency-Key": key}, {"title": "x"})


@pytest.mark.parametrize("key", ["x" * 255, "a b", "8e03978e-40d5-43e8-bc93-6894a57f9324", "~!"])
def test_visible_ascii_keys_up_to_255_characters_are_taken(key):
    assert key_of({"Idempotency-Key": key}, {"title": "x"}).key == key
