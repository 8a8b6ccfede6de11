"""The fuzz forgives an 'accepted invalid data' report only for a query that is valid as sent."""
import pytest

from tests.openapi_wire import query_is_valid_as_sent

# The task list's parameters as tasks_svc documents them (a comma list is form style, not exploded).
TASK_LIST = [
    {"in": "query", "name": "page_size", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {"in": "query", "name": "assigned_user", "style": "form", "explode": False, "schema": {
        "type": "array", "minItems": 1, "maxItems": 100,
        "items": {"type": "integer", "minimum": 1, "maximum": 2147483647}}},
    {"in": "query", "name": "due_date", "style": "form", "explode": False, "schema": {
        "type": "array", "minItems": 1, "items": {"type": "string", "format": "date"}}},
    {"in": "query", "name": "q", "schema": {"type": "string", "minLength": 1}},
    {"in": "path", "name": "task_id", "required": True, "schema": {"type": "integer"}},
]


@pytest.mark.parametrize("query", [
    "",
    "assigned_user=9",  # what schemathesis sends for its "integer instead of array" mutation
    "assigned_user=9,12&page_size=100",
    "due_date=2024-12-31,2025-01-01",
    "q=%20x",
])
def test_a_query_the_document_allows_is_valid_as_sent(query):
    assert query_is_valid_as_sent(TASK_LIST, query)


@pytest.mark.parametrize("query", [
    "assigned_user=0",
    "assigned_user=abc",
    "assigned_user=",
    "assigned_user=9,",
    "assigned_user=2147483648",
    "assigned_user=9&assigned_user=10",  # a comma list is one key, not repeated keys
    "page_size=0",
    "page_size=1.5",
    "page_size=20&page_size=30",
    "due_date=2024-13-45",
    "due_date=20241231",
    "q=",
    "unknown=1",  # not documented, so not provably valid
])
def test_a_query_the_document_refuses_is_not_valid_as_sent(query):
    assert not query_is_valid_as_sent(TASK_LIST, query)


def test_a_missing_required_query_parameter_is_not_valid():
    parameters = [{"in": "query", "name": "token", "required": True, "schema": {"type": "string"}}]
    assert not query_is_valid_as_sent(parameters, "")
    assert query_is_valid_as_sent(parameters, "token=x")


def test_a_parameter_given_by_reference_is_never_assumed_valid():
    parameters = [{"in": "query", "name": "kind", "schema": {"$ref": "#/components/schemas/Kind"}}]
    assert not query_is_valid_as_sent(parameters, "kind=a")
