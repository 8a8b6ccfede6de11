"""Whether a query string, as sent, is valid for an operation's OpenAPI query parameters.

schemathesis (4.32.5) judges some negative cases by the value it generated instead of the text it
sent: it mutates a comma-list parameter (`type: array`, `style: form`, `explode: false`) into the
integer 9, sends `?assigned_user=9`, which is the valid one-element list [9], and reports the 200
as accepted invalid data. The fuzz asks this module whether the text sent was in fact valid, and
only then forgives such a report. Anything this module cannot prove valid stays a failure.
"""
import re
from urllib.parse import parse_qs

import jsonschema

INTEGER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# OpenAPI 3.0 schemas are Draft 4 with the later drafts' formats (Draft 4's checker knows no `date`).
FORMATS = jsonschema.Draft7Validator.FORMAT_CHECKER


def query_is_valid_as_sent(parameters: list[dict], query: str) -> bool:
    """True when every parameter in `query` is documented in `parameters` and its text, read the
    way OpenAPI serialises it, satisfies its schema, and no required parameter is missing."""
    documented = {parameter["name"]: parameter for parameter in parameters if parameter.get("in") == "query"}
    sent = parse_qs(query, keep_blank_values=True)
    if any(parameter.get("required") and name not in sent for name, parameter in documented.items()):
        return False
    for name, texts in sent.items():
        parameter = documented.get(name)
        if parameter is None or not text_satisfies(parameter, texts):
            return False
    return True


def text_satisfies(parameter: dict, texts: list[str]) -> bool:
    schema = parameter.get("schema", {})
    if "$ref" in str(schema):
        return False  # not resolved here, so not provably valid
    if schema.get("type") == "array":
        explode = parameter.get("explode", parameter.get("style", "form") == "form")
        if not explode:
            if len(texts) != 1 or parameter.get("style", "form") != "form":
                return False
            texts = texts[0].split(",")
        value = [read(text, schema.get("items", {}).get("type")) for text in texts]
    elif len(texts) == 1:
        value = read(texts[0], schema.get("type"))
    else:
        return False
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS).is_valid(value)


def read(text: str, json_type: str | None):
    """The value a server reads from one query text: a number or boolean where the schema says so;
    text that does not parse stays text and fails the schema's type."""
    if json_type == "integer" and INTEGER.fullmatch(text):
        return int(text)
    if json_type == "number" and NUMBER.fullmatch(text):
        return float(text)
    if json_type == "boolean" and text in ("true", "false"):
        return text == "true"
    return text
