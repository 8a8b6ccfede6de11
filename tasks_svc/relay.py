"""`python -m tasks_svc.relay`: publishes tasks_svc's outbox (task events) to RabbitMQ."""
from taskwire_common.outbox_relay import main

from .config import load_settings

if __name__ == "__main__":
    main(load_settings())
