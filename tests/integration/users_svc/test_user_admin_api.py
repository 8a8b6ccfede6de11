"""users_svc admin endpoints: list, create, get, patch, deactivate, role change, and who may use them."""
import pytest

from tests.integration.support import USERS_DATABASE_URL, planner_statistics_held, run_sql
from tests.support import bearer, walk_pages

ADMIN_CALLS = [
    ("get", "/api/auth/users/", None),
    ("post", "/api/auth/users/", {"username": "x", "email": "x@example.com", "password": "long-enough"}),
    ("get", "/api/auth/users/1/", None),
    ("patch", "/api/auth/users/1/", {"email": "y@example.com"}),
    ("delete", "/api/auth/users/1/", None),
    ("put", "/api/auth/users/1/role/", {"role": "admin"}),
]


@pytest.mark.parametrize("method,path,body", ADMIN_CALLS)
def test_a_user_gets_403_on_every_admin_endpoint(client, make_user, login, method, path, body):
    make_user("ann")
    response = getattr(client, method)(path, json=body, headers=bearer(login("ann")))
    assert response.status_code == 403


@pytest.mark.parametrize("method,path,body", ADMIN_CALLS)
def test_anonymous_gets_401_on_every_admin_endpoint(client, method, path, body):
    assert getattr(client, method)(path, json=body).status_code == 401


def test_user_list_is_paginated_with_total_and_links(client, make_user, admin_token):
    for name in ("ann", "bob", "cat", "dan"):
        make_user(name)
    response = client.get("/api/auth/users/?page=2&page_size=2", headers=bearer(admin_token))
    assert response.status_code == 200
    assert [user["username"] for user in response.json] == ["bob", "cat"]
    assert response.headers["X-Total-Count"] == "5"
    links = response.headers["Link"]
    assert 'page=1&page_size=2>; rel="prev"' in links and 'page=3&page_size=2>; rel="next"' in links
    assert 'rel="last"' in links and 'rel="first"' in links


def test_user_list_orders_by_id_or_username_either_way(client, make_user, admin_token):
    for name in ("cat", "ann", "bob"):
        make_user(name)
    listed = lambda ordering: [u["username"] for u in client.get(  # noqa: E731
        f"/api/auth/users/?ordering={ordering}", headers=bearer(admin_token)).json if u["username"] != "root"]
    assert listed("id") == ["cat", "ann", "bob"] and listed("-id") == ["bob", "ann", "cat"]
    assert listed("username") == ["ann", "bob", "cat"] and listed("-username") == ["cat", "bob", "ann"]
    bad = client.get("/api/auth/users/?ordering=password_hash", headers=bearer(admin_token))
    assert bad.status_code == 400 and "ordering" in bad.json["errors"]


@pytest.fixture
def users_planner_sees_one_user(admin_token):
    """The planner's statistics taken with only the admin there, and no autovacuum to renew them: stale low."""
    with planner_statistics_held(USERS_DATABASE_URL, "users"):
        run_sql(USERS_DATABASE_URL, "ANALYZE users")
        yield


def test_next_reaches_every_user_past_the_exact_count_limit(client, make_user, admin_token,
                                                            users_planner_sees_one_user, monkeypatch):
    """Past the limit the total is an estimate; rel="next" still names a page exactly when a user follows."""
    from taskwire_common import pagination
    for number in range(6):
        make_user(f"many{number}")
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 2)
    pages = walk_pages(client, "/api/auth/users/?page_size=2", bearer(admin_token))
    seen = [user["username"] for users, _ in pages for user in users]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert pages[-1][1] == 7  # the last page's total is exact
    last = client.get("/api/auth/users/?page_size=2&page=4", headers=bearer(admin_token))
    assert last.headers["X-Total-Count"] == "7" and "X-Total-Count-Estimated" not in last.headers


def test_user_list_filters_by_role_activity_and_text(client, make_user, admin_token):
    make_user("ann")
    make_user("bob", email="bob@elsewhere.org")
    make_user("boss", role="admin")
    headers = bearer(admin_token)
    names = lambda query: [u["username"] for u in client.get(f"/api/auth/users/?{query}", headers=headers).json]  # noqa: E731
    assert names("role=admin") == ["root", "boss"]
    assert names("q=elsewhere") == ["bob"]
    assert names("q=bo&role=user") == ["bob"]
    assert names("is_active=false") == []


@pytest.mark.parametrize("query,parameter", [("page=0", "page"), ("page_size=101", "page_size"),
                                             ("role=owner", "role"), ("is_active=perhaps", "is_active")])
def test_bad_list_parameters_are_a_400_naming_them(client, admin_token, query, parameter):
    response = client.get(f"/api/auth/users/?{query}", headers=bearer(admin_token))
    assert response.status_code == 400 and parameter in response.json["errors"]


def test_admin_creates_a_user_with_a_role(client, admin_token, outbox_types):
    response = client.post("/api/auth/users/", headers=bearer(admin_token),
                           json={"username": "helper", "email": "h@example.com", "password": "long-enough",
                                 "role": "admin"})
    assert response.status_code == 201
    assert response.json["role"] == "admin" and response.json["is_staff"] is True
    assert outbox_types()[-1] == "user.created"


def test_admin_create_duplicate_is_a_409(client, make_user, admin_token):
    make_user("ann")
    response = client.post("/api/auth/users/", headers=bearer(admin_token),
                           json={"username": "ann", "email": "new@example.com", "password": "long-enough"})
    assert response.status_code == 409 and "username" in response.json["errors"]


def test_unknown_user_is_a_404(client, admin_token):
    assert client.get("/api/auth/users/9999/", headers=bearer(admin_token)).status_code == 404
    assert client.patch("/api/auth/users/9999/", json={"email": "a@b.co"},
                        headers=bearer(admin_token)).status_code == 404


def test_admin_patches_email_and_the_change_is_an_event(client, make_user, admin_token, outbox_types):
    user_id = make_user("ann")
    response = client.patch(f"/api/auth/users/{user_id}/", json={"email": "ann@new.example"},
                            headers=bearer(admin_token))
    assert response.status_code == 200 and response.json["email"] == "ann@new.example"
    assert outbox_types()[-1] == "user.updated"


def test_patch_cannot_change_the_role(client, make_user, admin_token):
    user_id = make_user("ann")
    response = client.patch(f"/api/auth/users/{user_id}/", json={"role": "admin"}, headers=bearer(admin_token))
    assert response.status_code == 400 and "role" in response.json["errors"]


def test_new_password_revokes_old_tokens_and_works(client, make_user, login, admin_token):
    user_id = make_user("ann")
    old = login("ann")
    response = client.patch(f"/api/auth/users/{user_id}/", json={"password": "brand-new-pass"},
                            headers=bearer(admin_token))
    assert response.status_code == 200
    assert client.get("/api/auth/me/", headers=bearer(old)).status_code == 401
    assert client.get("/api/auth/me/", headers=bearer(login("ann", "brand-new-pass"))).status_code == 200


def test_delete_deactivates_and_revokes(client, make_user, login, admin_token, outbox_types):
    user_id = make_user("ann")
    token = login("ann")
    assert client.delete(f"/api/auth/users/{user_id}/", headers=bearer(admin_token)).status_code == 204
    assert client.get("/api/auth/me/", headers=bearer(token)).status_code == 401
    shown = client.get(f"/api/auth/users/{user_id}/", headers=bearer(admin_token)).json
    assert shown["is_active"] is False
    assert outbox_types()[-2:] == ["auth.token_revoked", "user.updated"]


def test_role_change_takes_effect_at_once(client, make_user, login, admin_token):
    user_id = make_user("ann")
    old = login("ann")
    response = client.put(f"/api/auth/users/{user_id}/role/", json={"role": "admin"}, headers=bearer(admin_token))
    assert response.status_code == 200 and response.json["role"] == "admin"
    assert client.get("/api/auth/me/", headers=bearer(old)).status_code == 401
    assert client.get("/api/auth/users/", headers=bearer(login("ann"))).status_code == 200


def test_invalid_role_is_a_400(client, make_user, admin_token):
    user_id = make_user("ann")
    response = client.put(f"/api/auth/users/{user_id}/role/", json={"role": "owner"}, headers=bearer(admin_token))
    assert response.status_code == 400 and "role" in response.json["errors"]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, admin_token):
    me = client.get("/api/auth/me/", headers=bearer(admin_token)).json["id"]
    assert client.put(f"/api/auth/users/{me}/role/", json={"role": "user"},
                      headers=bearer(admin_token)).status_code == 409
    assert client.delete(f"/api/auth/users/{me}/", headers=bearer(admin_token)).status_code == 409
    assert client.get("/api/auth/me/", headers=bearer(admin_token)).json["role"] == "admin"


def test_create_superuser_is_idempotent_and_promotes_an_existing_user(users_app, make_user, client):
    runner = users_app.test_cli_runner()
    args = ["create-superuser", "--username", "boss", "--email", "boss@example.com",
            "--password", "boss-pass-1", "--no-input"]
    first = runner.invoke(args=args)
    second = runner.invoke(args=args)
    assert first.exit_code == 0 and "Created" in first.output
    assert second.exit_code == 0 and "Updated" in second.output
    make_user("ann")
    promoted = runner.invoke(args=["create-superuser", "--username", "ann", "--email", "ann@example.com",
                                   "--password", "another-pass", "--no-input"])
    assert promoted.exit_code == 0
    response = client.post("/api/auth/login/", json={"username": "ann", "password": "another-pass"})
    assert response.json["user"]["role"] == "admin" and response.json["user"]["is_superuser"] is True


def test_create_superuser_without_input_names_what_is_missing(users_app):
    result = users_app.test_cli_runner().invoke(args=["create-superuser", "--username", "boss", "--no-input"])
    assert result.exit_code != 0 and "--email" in result.output and "--password" in result.output


def test_create_superuser_prompts_when_interactive(users_app):
    result = users_app.test_cli_runner().invoke(
        args=["create-superuser"], input="boss\nboss@example.com\nboss-pass-1\nboss-pass-1\n")
    assert result.exit_code == 0 and "Created admin 'boss'" in result.output


def test_a_duplicate_that_slips_past_the_check_is_still_a_409(users_app, make_user, monkeypatch):
    from users_svc import services

    make_user("ann")
    monkeypatch.setattr(services, "ensure_unique", lambda *args, **kwargs: None)  # as if a race won
    with users_app.app_context(), pytest.raises(services.Conflict) as caught:
        services.create_user("ANN", "other@example.com", "long-enough")
    assert caught.value.field == "username"


@pytest.mark.parametrize("query,parameter", [("colour=blue", "colour"), ("role=user&role=admin", "role")])
def test_unknown_or_repeated_query_parameters_are_a_400_naming_them(client, admin_token, query, parameter):
    response = client.get(f"/api/auth/users/?{query}", headers=bearer(admin_token))
    assert response.status_code == 400 and parameter in response.json["errors"]
