"""The WSGI entry point gunicorn loads in each worker: `notify_svc.wsgi:app`."""
from .app import create_app

app = create_app()
