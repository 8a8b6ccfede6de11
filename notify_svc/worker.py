"""`python -m notify_svc.worker`: turns task events into notifications, once each."""
from broker import topology
from taskwire_common.worker import run_consumer

from .app import create_app
from .services import handle_task_events


def main() -> None:
    run_consumer(create_app, topology, topology.NOTIFY_TASKS_QUEUE, handle_task_events)


if __name__ == "__main__":
    main()
