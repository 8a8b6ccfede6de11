"""`python -m notify_svc.worker`: turns task events into notifications, once each, and sends due-date reminders."""
from broker import topology
from taskwire_common.worker import run_consumer

from .app import create_app
from .reminders import ReminderScanner
from .services import handle_task_events


def main() -> None:
    app = create_app()
    scanner = ReminderScanner(app)  # its thread's app context gives it a database session of its own
    scanner.start()
    try:
        run_consumer(lambda: app, topology, topology.NOTIFY_TASKS_QUEUE, handle_task_events)
    finally:
        scanner.stop.set()


if __name__ == "__main__":
    main()
