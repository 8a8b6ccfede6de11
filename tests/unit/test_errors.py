"""The problem-details shape: field names out of webargs' nesting, a readable detail."""
import marshmallow as ma
import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest

from taskwire_common.errors import KEPT_QUERY_BYTES, StrictParser, describe_errors, flatten_errors


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


class CountingSchema(ma.Schema):
    """A query schema that counts its loads."""

    loads = 0
    status = ma.fields.List(ma.fields.String())
    page = ma.fields.Integer(load_default=1)

    def load(self, *args, **kwargs):
        CountingSchema.loads += 1
        return super().load(*args, **kwargs)


def parse_query(parser, schema, query_string):
    with Flask(__name__).test_request_context("/?" + query_string):
        return parser.parse(schema, location="query", unknown=ma.RAISE, error_status_code=None)


def test_a_query_string_is_parsed_once_and_each_caller_gets_its_own_copy():
    parser, schema = StrictParser(), CountingSchema()
    CountingSchema.loads = 0
    first = parse_query(parser, schema, "status=todo&page=2")
    assert first == {"status": ["todo"], "page": 2}
    first.pop("page")
    first["status"].append("done")
    assert parse_query(parser, schema, "status=todo&page=2") == {"status": ["todo"], "page": 2}
    assert CountingSchema.loads == 1
    assert parse_query(parser, schema, "status=done") == {"status": ["done"], "page": 1}
    assert CountingSchema.loads == 2


def test_a_bad_query_string_is_refused_every_time_and_never_kept():
    parser, schema = StrictParser(), CountingSchema()
    CountingSchema.loads = 0
    for _ in range(2):
        with pytest.raises(BadRequest) as refused:
            parse_query(parser, schema, "page=two")
        assert refused.value.code == 400
    assert CountingSchema.loads == 2


def test_a_long_query_string_is_parsed_every_time_and_never_kept():
    parser, schema = StrictParser(), CountingSchema()
    CountingSchema.loads = 0
    long_query = "status=" + ",".join(["todo"] * 100)
    assert len(long_query) > KEPT_QUERY_BYTES
    for _ in range(2):
        assert parse_query(parser, schema, long_query)["page"] == 1
    assert CountingSchema.loads == 2
