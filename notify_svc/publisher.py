"""`python -m notify_svc.publisher`: publishes notify_svc's outbox (notification events) to RabbitMQ."""
from broker import topology
from taskwire_common.outbox_publisher import main

from .config import load_settings

if __name__ == "__main__":
    main(load_settings(), topology)
