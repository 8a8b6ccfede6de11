"""Production refuses to start on development defaults; development starts with none set."""
import pytest

from taskwire_common.settings import (
    ConfigurationError,
    broker_urls,
    env_bool,
    env_int,
    refuse_development_defaults,
)
from tests.support import it_key_dir
from users_svc.config import load_settings

PRODUCTION_ENV = {
    "TASKWIRE_ENV": "production",
    "INTERNAL_API_KEY": "a-production-secret-of-at-least-32-chars",
    "DATABASE_URL": "postgresql://users:s3cret@db:5432/users_db",
    "AMQP_URL": "amqp://taskwire:s3cret@rabbitmq:5672/taskwire",
}


@pytest.fixture
def environment(monkeypatch):
    for name in ("TASKWIRE_ENV", "INTERNAL_API_KEY", "DATABASE_URL", "AMQP_URL", "AMQP_URLS", "JWT_SIGNING_KEY_DIR",
                 "JWKS_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_development_starts_on_defaults(environment):
    refuse_development_defaults(load_settings())


def test_production_starts_with_real_secrets(environment):
    for name, value in PRODUCTION_ENV.items():
        environment.setenv(name, value)
    refuse_development_defaults(load_settings())


@pytest.mark.parametrize("missing,message", [
    ("INTERNAL_API_KEY", "INTERNAL_API_KEY is the development default"),
    ("DATABASE_URL", "DATABASE_URL uses the development password"),
    ("AMQP_URL", r"AMQP_URL\(S\) uses the development guest account"),
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
    environment.setenv("INTERNAL_API_KEY", "short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        refuse_development_defaults(load_settings())


def test_malformed_numbers_and_flags_are_named(environment):
    environment.setenv("LOGIN_MAX_FAILURES", "five")
    with pytest.raises(ConfigurationError, match="LOGIN_MAX_FAILURES"):
        env_int("LOGIN_MAX_FAILURES", 5)
    environment.setenv("REGISTRATION_OPEN", "maybe")
    with pytest.raises(ConfigurationError, match="REGISTRATION_OPEN"):
        env_bool("REGISTRATION_OPEN", True)


def test_a_number_below_its_minimum_is_refused_and_the_minimum_itself_taken(environment):
    environment.setenv("WS_MAX_SOCKETS_PER_USER", "0")
    with pytest.raises(ConfigurationError, match="WS_MAX_SOCKETS_PER_USER must be at least 1, got 0"):
        env_int("WS_MAX_SOCKETS_PER_USER", 100, minimum=1)
    environment.setenv("WS_MAX_SOCKETS_PER_USER", "1")
    assert env_int("WS_MAX_SOCKETS_PER_USER", 100, minimum=1) == 1


@pytest.mark.parametrize("name,value,named", [
    ("INTERNAL_API_KEY", "change-me-to-a-long-random-string-of-48-characters", "INTERNAL_API_KEY"),  # .env.example's
    ("DATABASE_URL", "postgresql://taskwire:change-me-postgres-password@db:5432/users_db", "DATABASE_URL"),
    ("AMQP_URL", "amqp://taskwire:change-me-rabbitmq-password@rabbitmq:5672/taskwire", r"AMQP_URL\(S\)"),
    ("AMQP_URLS", "amqp://taskwire:s3cret@rabbit-1:5672/taskwire,amqp://taskwire:change-me-rabbitmq-password@"
                  "rabbit-2:5672/taskwire", r"AMQP_URL\(S\)"),
])
def test_production_refuses_the_documented_placeholders(environment, name, value, named):
    for variable, setting in PRODUCTION_ENV.items():
        environment.setenv(variable, setting)
    environment.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"{named} holds a documented placeholder"):
        refuse_development_defaults(load_settings())


def test_a_cluster_is_a_comma_list_of_nodes_that_wins_over_a_single_url(environment):
    environment.setenv("AMQP_URL", "amqp://taskwire:s3cret@rabbitmq:5672/taskwire")
    environment.setenv("AMQP_URLS", " amqp://a:1@rabbit-1:5672/t , amqp://a:1@rabbit-2:5672/t,"
                                    "amqp://a:1@rabbit-3:5672/t ")
    assert broker_urls(load_settings().amqp_url) == ["amqp://a:1@rabbit-1:5672/t", "amqp://a:1@rabbit-2:5672/t",
                                                     "amqp://a:1@rabbit-3:5672/t"]
    environment.setenv("AMQP_URLS", "amqp://a:1@rabbit-1:5672/t,,amqp://a:1@rabbit-3:5672/t")
    with pytest.raises(ConfigurationError, match="AMQP_URLS: an empty address among 3"):
        load_settings()


def test_production_refuses_the_guest_account_on_any_node(environment):
    for name, value in PRODUCTION_ENV.items():
        environment.setenv(name, value)
    environment.setenv("AMQP_URLS", "amqp://taskwire:s3cret@rabbit-1:5672/t,amqp://guest:guest@rabbit-2:5672/t")
    with pytest.raises(ConfigurationError, match=r"AMQP_URL\(S\) uses the development guest account"):
        refuse_development_defaults(load_settings())


@pytest.mark.parametrize("module", ["users_svc.app", "tasks_svc.app", "notify_svc.app", "ws_relay.app"])
def test_every_service_refuses_to_start_in_production_on_the_development_key(environment, module):
    import importlib

    environment.setenv("TASKWIRE_ENV", "production")
    environment.setenv("JWT_SIGNING_KEY_DIR", str(it_key_dir()))
    with pytest.raises(ConfigurationError, match="INTERNAL_API_KEY"):
        importlib.import_module(module).create_app()


def test_users_svc_refuses_to_start_without_a_signing_key_in_any_environment(environment, tmp_path):
    from users_svc.app import create_app

    with pytest.raises(ConfigurationError, match="JWT_SIGNING_KEY_DIR is not set"):
        create_app()
    environment.setenv("JWT_SIGNING_KEY_DIR", str(tmp_path))
    with pytest.raises(ConfigurationError, match="no signing key"):
        create_app()


def test_users_svc_refuses_in_production_a_key_others_may_read(environment, tmp_path):
    from users_svc.app import create_app
    from users_svc.signing_keys import add_key

    for name, value in PRODUCTION_ENV.items():
        environment.setenv(name, value)
    environment.setenv("JWT_SIGNING_KEY_DIR", str(tmp_path))
    key = add_key(tmp_path)
    (tmp_path / f"{key.kid}.pem").chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        create_app()
