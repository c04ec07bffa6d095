"""WSGI entry point: `gunicorn imperium.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")

application = get_wsgi_application()

# The inbound webhook is answered before Django's middleware stack (see conversations/fastpath.py).
from conversations.fastpath import with_webhook_fast_path  # noqa: E402

application = with_webhook_fast_path(application)
