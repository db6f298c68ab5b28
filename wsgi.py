"""WSGI entry point: `gunicorn wsgi:app`."""

from referral import create_app

app = create_app()
