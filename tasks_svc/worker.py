"""`python -m tasks_svc.worker`: keeps the local user directory current from users_svc's `user.*` events."""
from flask import current_app

from broker import topology
from taskwire_common.consumer import one_at_a_time
from taskwire_common.internal import InternalClient
from taskwire_common.worker import run_consumer

from .app import create_app
from .directory import apply_user_event, load_snapshot


def load_missed_users() -> None:
    # Bound before loaded: an event after the snapshot waits in the durable queue.
    settings = current_app.config["TASKWIRE_SETTINGS"]
    load_snapshot(InternalClient(settings.users_service_url, settings.internal_api_key))


def main() -> None:
    run_consumer(create_app, topology, topology.TASKS_USERS_QUEUE, one_at_a_time(apply_user_event),
                 on_connected=load_missed_users)


if __name__ == "__main__":
    main()
