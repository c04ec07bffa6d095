from django.db import models
from django.utils.translation import gettext_lazy as _


class UpdateStatus(models.TextChoices):
    RECEIVED = "received", _("Received (waiting for a worker)")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")


class UpdateKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    EDITED_MESSAGE = "edited_message", _("Edited message")
    CALLBACK_QUERY = "callback_query", _("Button press")
    CHANNEL_POST = "channel_post", _("Channel post")
    EDITED_CHANNEL_POST = "edited_channel_post", _("Edited channel post")
    MY_CHAT_MEMBER = "my_chat_member", _("Bot membership change")
    OTHER = "other", _("Other")


class AllowedRole(models.TextChoices):
    CEO = "ceo", "CEO"
    OPERATOR = "operator", _("Operator")


class PressStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TopicStatus(models.TextChoices):
    PENDING = "pending", _("Pending (to be created)")
    CREATED = "created", _("Created")
    UNAVAILABLE = "unavailable", _("Unavailable (not a forum, or the bot may not create topics)")


class NoticeKind(models.TextChoices):
    ESCALATION = "escalation", _("Escalation")
    CUSTOMER_MESSAGE = "customer_message", _("Customer message (manager holds the conversation)")
    REMINDER = "reminder", _("SLA reminder")
    BOT_ANSWER = "bot_answer", _("Bot answer (conversation managers dealt with)")


class NoticeStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting (for the conversation's topic)")
    QUEUED = "queued", _("Queued in the Telegram outbox")
