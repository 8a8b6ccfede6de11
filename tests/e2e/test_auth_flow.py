"""Signing up, in and out through the gateway, as a client of the old Django system would."""
import requests

from tests.support import bearer


def test_register_then_me(gateway, unique_name):
    response = requests.post(f"{gateway}/api/auth/register/", timeout=5, json={
        "username": unique_name, "email": f"{unique_name}@example.com", "password": "long-enough"})
    assert response.status_code == 201
    me = requests.get(f"{gateway}/api/auth/me/", headers=bearer(response.json()["token"], "Token"), timeout=5)
    assert me.json()["username"] == unique_name and me.json()["role"] == "user"


def test_a_user_is_refused_admin_endpoints(gateway, user):
    response = requests.get(f"{gateway}/api/auth/users/", headers=bearer(user.token), timeout=5)
    assert response.status_code == 403


def test_repeated_failures_are_throttled_through_the_gateway(gateway, user):
    # The test profile allows 5 failures per username per minute.
    for _ in range(5):
        response = requests.post(f"{gateway}/api/auth/login/",
                                 json={"username": user.username, "password": "wrong-password"}, timeout=5)
        assert response.status_code == 401
    throttled = requests.post(f"{gateway}/api/auth/login/",
                              json={"username": user.username, "password": user.password}, timeout=5)
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers


def test_admin_manages_a_user_through_the_gateway(gateway, admin_session, user):
    url = f"{gateway}/api/auth/users/{user.id}/"
    assert admin_session.patch(url, json={"email": f"new-{user.username}@example.com"}, timeout=5).status_code == 200
    promoted = admin_session.put(url + "role/", json={"role": "admin"}, timeout=5)
    assert promoted.status_code == 200 and promoted.json()["is_staff"] is True
    assert admin_session.delete(url, timeout=5).status_code == 204
    assert admin_session.get(url, timeout=5).json()["is_active"] is False
