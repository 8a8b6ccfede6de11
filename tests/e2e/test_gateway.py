"""The gateway: one entry point on the test stack's port, routing, aliases, request ids, JSON errors."""
import pytest
import requests

from tests.support import bearer


@pytest.mark.parametrize("name,service", [("users", "users_svc"), ("tasks", "tasks_svc"),
                                          ("notifications", "notify_svc"), ("ws", "ws_relay")])
def test_every_service_is_healthy_through_the_gateway(gateway, name, service):
    response = requests.get(f"{gateway}/healthz/{name}", timeout=5)
    assert response.status_code == 200
    assert response.json()["service"] == service and response.json()["status"] == "ok"


@pytest.mark.parametrize("prefix", ["/api", "/api/v1"])
@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_login_and_verify_through_the_gateway_and_its_v1_alias(gateway, admin, prefix, scheme):
    response = requests.post(f"{gateway}{prefix}/auth/login/",
                             json={"username": admin.username, "password": admin.password}, timeout=5)
    assert response.status_code == 200
    verified = requests.get(f"{gateway}{prefix}/auth/verify/", headers=bearer(response.json()["token"], scheme),
                            timeout=5)
    assert verified.status_code == 200 and verified.json()["username"] == admin.username


def test_request_id_is_made_by_the_gateway_and_kept_when_given(gateway):
    made = requests.get(f"{gateway}/healthz/users", timeout=5).headers.get("X-Request-ID")
    assert made
    given = requests.get(f"{gateway}/healthz/users", headers={"X-Request-ID": "trace-me-42"}, timeout=5)
    assert given.headers["X-Request-ID"] == "trace-me-42"


def test_oversized_body_is_a_json_413(gateway):
    response = requests.post(f"{gateway}/api/auth/login/", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


def test_unknown_path_is_a_json_404(gateway):
    response = requests.get(f"{gateway}/no/such/thing", timeout=5)
    assert response.status_code == 404 and response.json()["status"] == 404


def test_malformed_json_and_wrong_content_type_through_the_gateway(gateway):
    malformed = requests.post(f"{gateway}/api/auth/login/", data="{nope",
                              headers={"Content-Type": "application/json"}, timeout=5)
    assert malformed.status_code == 400 and malformed.json()["detail"] == "Invalid JSON body."
    form = requests.post(f"{gateway}/api/auth/login/", data={"username": "a", "password": "b"}, timeout=5)
    assert form.status_code == 415


@pytest.mark.parametrize("prefix", ["auth", "tasks", "notifications"])
def test_each_service_publishes_its_openapi_document(gateway, prefix):
    response = requests.get(f"{gateway}/api/{prefix}/openapi.json", timeout=5)
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


def test_pagination_links_point_back_through_the_gateway(gateway, admin_session):
    response = admin_session.get(f"{gateway}/api/auth/users/?page_size=1&role=user", timeout=5)
    assert response.status_code == 200
    assert f'<{gateway}/api/auth/users/?role=user&page=1&page_size=1>; rel="first"' in response.headers["Link"]
