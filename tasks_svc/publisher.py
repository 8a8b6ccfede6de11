"""`python -m tasks_svc.publisher`: publishes tasks_svc's outbox (task events) to RabbitMQ; purges expired keys."""
from broker import topology
from taskwire_common.idempotency_store import PURGE_EXPIRED_KEYS
from taskwire_common.outbox_publisher import main

from .config import load_settings

if __name__ == "__main__":
    main(load_settings(), topology, housekeeping=[PURGE_EXPIRED_KEYS])
