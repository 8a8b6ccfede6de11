"""The harness's small parts: waiting with a deadline, a stack's clean environment, seeded accounts."""
import pytest

from harness.seed import Seeded, user_name
from harness.stack_runner import without_stack_settings
from harness.wait import poll, wait_until


def test_poll_returns_the_first_truthy_value():
    values = iter([0, None, "ready", "later"])
    assert poll(lambda: next(values), timeout=5, interval=0) == "ready"


def test_poll_gives_the_last_falsy_value_at_the_deadline_and_wait_until_names_what_it_waited_for():
    assert poll(lambda: [], timeout=0.01, interval=0.001) == []
    with pytest.raises(TimeoutError, match="the queue to drain"):
        wait_until(lambda: False, 0.01, "the queue to drain", interval=0.001)


def test_a_stack_does_not_inherit_another_layers_settings():
    env = {"PATH": "/bin", "DATABASE_URL": "postgresql://elsewhere", "LOG_LEVEL": "DEBUG", "AMQP_URL": "amqp://x",
           "AMQP_URLS": "amqp://y,amqp://z", "JWKS_FILE": "/it/jwks.json", "JWT_SIGNING_KEY_DIR": "/it/keys"}
    assert without_stack_settings(env) == {"PATH": "/bin"}


def test_seeded_user_ids_are_the_users_in_order_without_the_admin():
    seeded = Seeded({"bench-admin": (1, "admin"), user_name(1): (3, "user"), user_name(0): (2, "user")})
    assert seeded.user_ids() == [2, 3] and seeded.id_of("bench-admin") == 1
    assert user_name(7) == "bench-user-0007"
