from django.db import models
from django.utils.translation import gettext_lazy as _


class EscalationReason(models.TextChoices):
    """Why a turn went to a human. Shared by the quality gate, the pipeline and reports."""

    NO_KNOWLEDGE = "no_knowledge", _("No knowledge to answer from")
    LOW_CONFIDENCE = "low_confidence", _("Low retrieval confidence")
    AMBIGUOUS = "ambiguous", _("Ambiguous top results")
    UNGROUNDED = "ungrounded", _("Reply not grounded in sources")
    UNSUPPORTED_QUALIFIER = "unsupported_qualifier", _("Asks about something the sources do not cover")
    OFFTOPIC = "offtopic", _("Off-topic")
    TOXIC = "toxic", _("Toxic or insulting")
    INJECTION = "injection", _("Prompt injection")
    BOOKING = "booking", _("Booking, rescheduling or cancelling")
    COMPLAINT = "complaint", _("Complaint or refund")
    NON_TEXT = "non_text", _("Non-text message")
    TOO_LONG = "too_long", _("Message or reply too long")
    DELIVERY_FAILED = "delivery_failed", _("Reply could not be delivered")
    DEPENDENCY_DOWN = "dependency_down", _("A service the answer needs is down")
    MANAGER_REQUESTED = "manager_requested", _("Customer asked for a human")
    WRONG_ANSWER = "wrong_answer", _("The bot answered wrong")  # «❌ Бот ответил неверно» (services.feedback)
    OTHER = "other", _("Other")


class ConversationState(models.TextChoices):
    BOT = "bot", _("Bot answers")
    HUMAN = "human", _("Manager holds it (bot silent)")
    CLOSED = "closed", _("Closed")


class MessageType(models.TextChoices):
    """Types ChatFlow sends. Anything but text is stored and handed to a human."""

    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    VOICE = "voice", _("Voice")
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("Document")
    STICKER = "sticker", _("Sticker")
    LOCATION = "location", _("Location")
    CONTACT = "contact", _("Contact")
    OTHER = "other", _("Other")


class TurnStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    ANSWERED = "answered", _("Answered by the bot")
    ESCALATED = "escalated", _("Escalated to a human")
    FORWARDED = "forwarded", _("Forwarded to the manager (conversation held by a human)")
    SUPPRESSED = "suppressed", _("Not answered: a manager took the conversation meanwhile")


class TurnDecision(models.TextChoices):
    ANSWER = "answer", _("Answer")
    ESCALATE = "escalate", _("Escalate")
    FORWARD = "forward", _("Forward to manager")


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("Bot reply")
    HOLDING = "holding", _("Holding reply (escalation)")
    MANAGER = "manager", _("Manager reply")
    VISIT = "visit", _("Visit message (CRM reminder, thank-you, nudge)")


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown (crashed mid-send; re-sent with the same key)")
    CANCELLED = "cancelled", _("Cancelled (a manager took over before it was sent)")


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    TAKEN = "taken", _("Taken by a manager")
    RESOLVED = "resolved", _("Resolved")


class DeadLetterStatus(models.TextChoices):
    NEW = "new", _("New")
    RESOLVED = "resolved", _("Resolved")


class EventSource(models.TextChoices):
    WEB = "web", _("Admin")
    TELEGRAM = "telegram", _("Telegram")
    API = "api", _("API")
    SYSTEM = "system", _("System")
