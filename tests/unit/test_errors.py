"""The problem-details shape: field names out of webargs' nesting, a readable detail."""
import pytest

from taskwire_common.errors import describe_errors, flatten_errors


def test_webargs_locations_are_flattened_to_field_names():
    assert flatten_errors({"json": {"title": ["Missing."]}, "query": {"page": ["Too small."]}}) == {
        "title": ["Missing."], "page": ["Too small."]}


def test_a_body_level_error_is_named_body_and_becomes_the_detail():
    errors = flatten_errors({"json": ["Invalid JSON body."]})
    assert errors == {"body": ["Invalid JSON body."]}
    assert describe_errors(errors) == "Invalid JSON body."


def test_detail_names_every_offending_field():
    assert describe_errors({"page": ["x"], "email": ["y"]}) == "Invalid value for: email, page."


def test_text_postgresql_cannot_store_is_found_and_named():
    from taskwire_common.errors import find_unstorable_text

    assert find_unstorable_text({"username": "ann", "password": "x"}) is None
    assert find_unstorable_text({"username": "a\x00n"}) == "username"
    assert find_unstorable_text({"tags": ["ok", "\ud800"]}) == "tags"
    assert find_unstorable_text({"meta": {"deep": {"er": "\x00"}}}) == "meta"
    assert find_unstorable_text({"bad\x00key": 1}) == "body"
    assert find_unstorable_text("\x00") == "body"


def test_free_text_refuses_nul_and_says_so_in_its_pattern():
    import marshmallow as ma

    from taskwire_common.errors import STORABLE_TEXT

    assert STORABLE_TEXT("any text, even\nmultiline") == "any text, even\nmultiline"
    with pytest.raises(ma.ValidationError):
        STORABLE_TEXT("a\x00b")
    assert STORABLE_TEXT.regex.pattern == r"^[^\x00]*$"
