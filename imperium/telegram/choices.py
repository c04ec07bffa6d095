from django.db import models


class UpdateStatus(models.TextChoices):
    RECEIVED = "received", "Received (waiting for a worker)"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class UpdateKind(models.TextChoices):
    MESSAGE = "message", "Message"
    EDITED_MESSAGE = "edited_message", "Edited message"
    CALLBACK_QUERY = "callback_query", "Button press"
    CHANNEL_POST = "channel_post", "Channel post"
    EDITED_CHANNEL_POST = "edited_channel_post", "Edited channel post"
    MY_CHAT_MEMBER = "my_chat_member", "Bot membership change"
    OTHER = "other", "Other"


class AllowedRole(models.TextChoices):
    CEO = "ceo", "CEO"
    OPERATOR = "operator", "Operator"


class PressStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class TopicStatus(models.TextChoices):
    PENDING = "pending", "Pending (to be created)"
    CREATED = "created", "Created"
    UNAVAILABLE = "unavailable", "Unavailable (not a forum, or the bot may not create topics)"


class NoticeKind(models.TextChoices):
    ESCALATION = "escalation", "Escalation"
    CUSTOMER_MESSAGE = "customer_message", "Customer message (manager holds the conversation)"
    REMINDER = "reminder", "SLA reminder"
    BOT_ANSWER = "bot_answer", "Bot answer (conversation managers dealt with)"


class NoticeStatus(models.TextChoices):
    WAITING = "waiting", "Waiting (for the conversation's topic)"
    QUEUED = "queued", "Queued in the Telegram outbox"
