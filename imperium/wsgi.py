"""WSGI entry point: `gunicorn imperium.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")

application = get_wsgi_application()
