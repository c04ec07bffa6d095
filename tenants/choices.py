from django.db import models


class ClientStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"


class ReleaseChannel(models.TextChoices):
    STABLE = "stable", "Stable"
    CANARY = "canary", "Canary"


class MembershipRole(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"
