"""`python -m tasks_svc.worker`: keeps the local user directory current from users_svc's `user.*` events."""
from broker import topology
from taskwire_common.consumer import EventConsumer, one_at_a_time, run_until_signalled
from taskwire_common.logs import configure_logging

from .app import create_app
from .directory import apply_user_event, load_snapshot


def main() -> None:
    app = create_app()
    settings = app.config["TASKWIRE_SETTINGS"]
    configure_logging(settings.log_level)

    def handle(event: dict) -> None:
        with app.app_context():
            apply_user_event(event)

    def load_missed_users() -> None:
        # Bound before loaded: an event after the snapshot waits in the durable queue.
        with app.app_context():
            load_snapshot(settings.users_service_url)

    run_until_signalled(EventConsumer(settings.amqp_url, topology.TASKS_USERS_QUEUE, one_at_a_time(handle),
                                      on_connected=load_missed_users))


if __name__ == "__main__":
    main()
