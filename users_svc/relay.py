"""`python -m users_svc.relay`: publishes users_svc's outbox (revocations, user events) to RabbitMQ."""
from taskwire_common.logs import configure_logging
from taskwire_common.outbox_relay import run_relay
from taskwire_common.settings import refuse_development_defaults

from .config import load_settings

if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings.log_level)
    refuse_development_defaults(settings)
    run_relay(settings.database_url, settings.amqp_url)
