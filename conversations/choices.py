from django.db import models


class EscalationReason(models.TextChoices):
    """Why a turn went to a human. Shared by the quality gate, the pipeline and reports."""

    NO_KNOWLEDGE = "no_knowledge", "No knowledge to answer from"
    LOW_CONFIDENCE = "low_confidence", "Low retrieval confidence"
    AMBIGUOUS = "ambiguous", "Ambiguous top results"
    UNGROUNDED = "ungrounded", "Reply not grounded in sources"
    UNSUPPORTED_QUALIFIER = "unsupported_qualifier", "Asks about something the sources do not cover"
    OFFTOPIC = "offtopic", "Off-topic"
    TOXIC = "toxic", "Toxic or insulting"
    INJECTION = "injection", "Prompt injection"
    BOOKING = "booking", "Booking, rescheduling or cancelling"
    COMPLAINT = "complaint", "Complaint or refund"
    NON_TEXT = "non_text", "Non-text message"
    TOO_LONG = "too_long", "Message or reply too long"
    DELIVERY_FAILED = "delivery_failed", "Reply could not be delivered"
    DEPENDENCY_DOWN = "dependency_down", "A service the answer needs is down"
    MANAGER_REQUESTED = "manager_requested", "Customer asked for a human"
    OTHER = "other", "Other"


class ConversationState(models.TextChoices):
    BOT = "bot", "Bot answers"
    HUMAN = "human", "Manager holds it (bot silent)"
    CLOSED = "closed", "Closed"


class MessageType(models.TextChoices):
    """Types ChatFlow sends. Anything but text is stored and handed to a human."""

    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VOICE = "voice", "Voice"
    VIDEO = "video", "Video"
    DOCUMENT = "document", "Document"
    STICKER = "sticker", "Sticker"
    LOCATION = "location", "Location"
    CONTACT = "contact", "Contact"
    OTHER = "other", "Other"


class TurnStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    ANSWERED = "answered", "Answered by the bot"
    ESCALATED = "escalated", "Escalated to a human"
    FORWARDED = "forwarded", "Forwarded to the manager (conversation held by a human)"
    SUPPRESSED = "suppressed", "Not answered: a manager took the conversation meanwhile"


class TurnDecision(models.TextChoices):
    ANSWER = "answer", "Answer"
    ESCALATE = "escalate", "Escalate"
    FORWARD = "forward", "Forward to manager"


class OutboundKind(models.TextChoices):
    REPLY = "reply", "Bot reply"
    HOLDING = "holding", "Holding reply (escalation)"
    MANAGER = "manager", "Manager reply"
    VISIT = "visit", "Visit message (CRM reminder, thank-you, nudge)"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (crashed mid-send; re-sent with the same key)"
    CANCELLED = "cancelled", "Cancelled (a manager took over before it was sent)"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    TAKEN = "taken", "Taken by a manager"
    RESOLVED = "resolved", "Resolved"


class DeadLetterStatus(models.TextChoices):
    NEW = "new", "New"
    RESOLVED = "resolved", "Resolved"


class EventSource(models.TextChoices):
    WEB = "web", "Admin"
    TELEGRAM = "telegram", "Telegram"
    API = "api", "API"
    SYSTEM = "system", "System"
