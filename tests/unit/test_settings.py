"""Production refuses to start on development defaults; development starts with none set."""
import pytest

from taskwire_common.settings import ConfigurationError, env_bool, env_int, refuse_development_defaults
from users_svc.config import load_settings

PRODUCTION_ENV = {
    "TASKWIRE_ENV": "production",
    "JWT_SECRET_KEY": "a-production-secret-of-at-least-32-chars",
    "DATABASE_URL": "postgresql://users:s3cret@db:5432/users_db",
    "AMQP_URL": "amqp://taskwire:s3cret@rabbitmq:5672/taskwire",
}


@pytest.fixture
def environment(monkeypatch):
    for name in ("TASKWIRE_ENV", "JWT_SECRET_KEY", "DATABASE_URL", "AMQP_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_development_starts_on_defaults(environment):
    refuse_development_defaults(load_settings())


def test_production_starts_with_real_secrets(environment):
    for name, value in PRODUCTION_ENV.items():
        environment.setenv(name, value)
    refuse_development_defaults(load_settings())


@pytest.mark.parametrize("missing,message", [
    ("JWT_SECRET_KEY", "JWT_SECRET_KEY is the development default"),
    ("DATABASE_URL", "DATABASE_URL uses the development password"),
    ("AMQP_URL", "AMQP_URL uses the development guest account"),
])
def test_production_refuses_each_development_default(environment, missing, message):
    for name, value in PRODUCTION_ENV.items():
        if name != missing:
            environment.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        refuse_development_defaults(load_settings())


def test_production_refuses_a_short_key(environment):
    for name, value in PRODUCTION_ENV.items():
        environment.setenv(name, value)
    environment.setenv("JWT_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        refuse_development_defaults(load_settings())


def test_malformed_numbers_and_flags_are_named(environment):
    environment.setenv("LOGIN_MAX_FAILURES", "five")
    with pytest.raises(ConfigurationError, match="LOGIN_MAX_FAILURES"):
        env_int("LOGIN_MAX_FAILURES", 5)
    environment.setenv("REGISTRATION_OPEN", "maybe")
    with pytest.raises(ConfigurationError, match="REGISTRATION_OPEN"):
        env_bool("REGISTRATION_OPEN", True)


@pytest.mark.parametrize("module", ["users_svc.app", "tasks_svc.app", "notify_svc.app", "ws_relay.app"])
def test_every_service_refuses_to_start_in_production_on_the_development_key(environment, module):
    import importlib

    environment.setenv("TASKWIRE_ENV", "production")
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        importlib.import_module(module).create_app()
