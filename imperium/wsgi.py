"""WSGI entry point: `gunicorn imperium.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")

application = get_wsgi_application()

from imperium.core.errortracking import init_error_tracking  # noqa: E402

init_error_tracking("web")  # SENTRY_DSN empty: nothing

# The inbound webhook is answered before Django's middleware stack (see conversations/fastpath.py).
from conversations.fastpath import with_webhook_fast_path  # noqa: E402
from imperium.core.metrics import with_metrics  # noqa: E402

# Outermost: webhook requests are counted and timed whichever path answers them.
application = with_metrics(with_webhook_fast_path(application))
