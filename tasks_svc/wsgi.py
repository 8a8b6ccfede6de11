"""The WSGI entry point gunicorn loads in each worker: `tasks_svc.wsgi:app`."""
from .app import create_app

app = create_app()
