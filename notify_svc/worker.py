"""`python -m notify_svc.worker`: turns task events into notifications, once each."""
from broker import topology
from taskwire_common.consumer import EventConsumer, run_until_signalled
from taskwire_common.logs import configure_logging

from .app import create_app
from .services import handle_task_events


def main() -> None:
    app = create_app()
    settings = app.config["TASKWIRE_SETTINGS"]
    configure_logging(settings.log_level)

    def handle(events: list[dict]) -> None:
        with app.app_context():
            handle_task_events(events)

    run_until_signalled(EventConsumer(settings.amqp_url, topology.NOTIFY_TASKS_QUEUE, handle))


if __name__ == "__main__":
    main()
