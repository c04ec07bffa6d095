from django.db import models
from django.utils.translation import gettext_lazy as _


class ClientStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")


class ReleaseChannel(models.TextChoices):
    STABLE = "stable", _("Stable")
    CANARY = "canary", _("Canary")


class MembershipRole(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    OPERATOR = "operator", _("Operator")
    ADMIN = "admin", _("Admin")
