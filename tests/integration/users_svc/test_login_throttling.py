"""Repeated failed logins for one username or from one address answer 429 for a while."""

LOGIN = "/api/auth/login/"


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_too_many_failures_for_a_username_are_throttled_even_with_the_right_password(client, make_user):
    make_user("ann")
    for _ in range(3):
        assert attempt(client, "ann", "wrong-password").status_code == 401
    throttled = attempt(client, "ann", "password-1", address="10.0.0.2")
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.mimetype == "application/problem+json"


def test_throttling_one_username_leaves_others_alone(client, make_user):
    make_user("ann")
    make_user("bob")
    for _ in range(3):
        attempt(client, "ann", "wrong-password")
    assert attempt(client, "bob", "password-1").status_code == 200


def test_a_successful_login_forgets_earlier_failures(client, make_user):
    make_user("ann")
    for _ in range(2):
        attempt(client, "ann", "wrong-password")
    assert attempt(client, "ann", "password-1").status_code == 200
    for _ in range(2):
        assert attempt(client, "ann", "wrong-password").status_code == 401
    assert attempt(client, "ann", "password-1").status_code == 200


def test_too_many_failures_from_one_address_are_throttled(client, make_user):
    make_user("zed")
    for number in range(6):
        assert attempt(client, f"guess{number}", "wrong-password", address="10.9.9.9").status_code == 401
    assert attempt(client, "zed", "password-1", address="10.9.9.9").status_code == 429
    assert attempt(client, "zed", "password-1", address="10.9.9.8").status_code == 200


def test_behind_the_gateway_the_address_is_the_clients_not_nginxs(client, make_user):
    make_user("zed")

    def via_gateway(username, password, client_address):
        # What nginx sends: the connection comes from nginx, X-Forwarded-For ends with the client.
        return client.post(LOGIN, json={"username": username, "password": password},
                           headers={"X-Forwarded-For": client_address},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})

    for number in range(6):
        assert via_gateway(f"guess{number}", "wrong-password", "203.0.113.7").status_code == 401
    assert via_gateway("zed", "password-1", "203.0.113.7").status_code == 429
    assert via_gateway("zed", "password-1", "198.51.100.2").status_code == 200
