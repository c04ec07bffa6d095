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
