"""Importing this package registers every update handler, command and button action.

Add a module here when you add handlers (e.g. escalation buttons and manager replies):
handlers live in the Telegram control plane (an entry point) and call services of any app;
no app imports them back.

- callbacks: button presses (priority 10); commands: /commands (priority 20);
- verification: the write-risk policy's verifier check, notifier and approve/reject buttons;
- handlers.alerts: the «Принял» button under alerts;
- handlers.conversations: the manager hand-over in tenant chats (card buttons, replies, notes; priority 30);
- handlers.feedback: «❌ Бот ответил неверно» under the managers' cards;
- handlers.knowledge: knowledge suggestion cards and their buttons, corrected answers (priority 25);
- handlers.incidents: /incident <id>, the «Принял» button under incident alerts.
"""

from imperium.telegram import callbacks, commands, verification  # noqa: F401
from imperium.telegram.handlers import alerts, conversations, feedback, incidents, knowledge  # noqa: F401
