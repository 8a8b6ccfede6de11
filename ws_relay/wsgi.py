"""The WSGI entry point gunicorn loads in each worker: `ws_relay.wsgi:app`."""
from .app import create_app

app = create_app()
