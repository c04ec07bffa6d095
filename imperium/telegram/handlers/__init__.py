"""Importing this package registers every update handler, command and button action.

Add a module here when you add handlers (e.g. escalation buttons and manager replies):
handlers live in the Telegram control plane (an entry point) and call services of any app;
no app imports them back.
"""

from imperium.telegram import callbacks, commands  # noqa: F401  (built-in handlers)
from imperium.telegram.handlers import alerts  # noqa: F401
