"""The three OpenAPI documents: an operationId on every operation, the security and refusals of every
operation that needs a signed-in caller, read off the views' decorators (taskwire_common/blueprint.py), and an
example for every property that its own schema accepts."""
import importlib

import pytest
from openapi_schema_validator import OAS30Validator

from tests.support import it_jwks_file, it_key_dir

PUBLIC = {"postLogin", "postRegister", "getJwks"}
ADMIN_ONLY = {"getUsers", "postUsers", "getUserDetail", "patchUserDetail", "deleteUserDetail", "putUserRole"}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def documents():
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("JWT_SIGNING_KEY_DIR", str(it_key_dir()))
        environment.setenv("JWKS_FILE", str(it_jwks_file()))
        found = {}
        for service, prefix in (("users_svc", "/api/auth"), ("tasks_svc", "/api/tasks"),
                                ("notify_svc", "/api/notifications")):
            app = importlib.import_module(f"{service}.app").create_app()
            found[service] = app.test_client().get(f"{prefix}/openapi.json").json
        return found


def operations(document):
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS]


def test_every_operation_has_an_operation_id_unique_in_its_document(documents):
    for document in documents.values():
        ids = [operation.get("operationId") for _path, _method, operation in operations(document)]
        assert all(ids) and len(ids) == len(set(ids))


def test_both_token_header_forms_are_declared(documents):
    for document in documents.values():
        schemes = document["components"]["securitySchemes"]
        assert schemes["bearerAuth"]["scheme"] == "bearer"
        assert schemes["tokenAuth"] == {**schemes["tokenAuth"], "type": "apiKey", "in": "header",
                                        "name": "Authorization"}


def test_signed_in_operations_declare_security_and_their_refusals_public_ones_none(documents):
    seen = set()
    for document in documents.values():
        for _path, _method, operation in operations(document):
            name = operation["operationId"]
            seen.add(name)
            if name in PUBLIC:
                assert "security" not in operation, name
                continue
            assert operation["security"] == [{"bearerAuth": []}, {"tokenAuth": []}], name
            assert {"401", "503"} <= set(operation["responses"]), name
            if name in ADMIN_ONLY:
                assert "403" in operation["responses"], name
    assert PUBLIC | ADMIN_ONLY <= seen


def test_login_documents_its_refusals(documents):
    login = documents["users_svc"]["paths"]["/api/auth/login/"]["post"]
    assert {"200", "400", "401", "429"} <= set(login["responses"])


def test_the_documents_are_valid_openapi(documents):
    from openapi_spec_validator import validate

    for document in documents.values():
        validate(document)  # raises OpenAPIValidationError, naming the first problem
    with pytest.raises(Exception, match="paths"):
        validate({"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {"/x": {"get": {}}}})


def test_lists_declare_their_page_headers_and_bodies_their_refusals(documents):
    for path in ("/api/auth/users/", "/api/tasks/", "/api/notifications/"):
        document = next(d for d in documents.values() if path in d["paths"])
        assert {"X-Total-Count", "Link"} <= set(document["paths"][path]["get"]["responses"]["200"]["headers"])
    for document in documents.values():
        for _path, method, operation in operations(document):
            if method in ("post", "put", "patch"):
                assert {"413", "415"} <= set(operation["responses"]), operation["operationId"]
    assert "403" in documents["tasks_svc"]["paths"]["/api/tasks/"]["post"]["responses"]


def schema_properties(document):
    """(schema name, property name, property schema) of every component schema; nested schemas are their own."""
    return [(name, prop, spec) for name, schema in document["components"]["schemas"].items()
            for prop, spec in schema.get("properties", {}).items()
            if "$ref" not in spec and "$ref" not in spec.get("items", {}) and "allOf" not in spec]


def test_every_schema_property_has_an_example_that_its_own_schema_accepts(documents):
    for service, document in documents.items():
        properties = schema_properties(document)
        assert properties, service
        missing = [f"{name}.{prop}" for name, prop, spec in properties if "example" not in spec]
        assert missing == [], service
        for _name, _prop, spec in properties:
            OAS30Validator(spec, format_checker=OAS30Validator.FORMAT_CHECKER).validate(spec["example"])
