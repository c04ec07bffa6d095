"""Who did something: carried into audit entries, verification requests and timelines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imperium.core.choices import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    label: str = ""
    user: Any = None  # the Django user, when kind == user

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, id="", label=label)

    @classmethod
    def from_user(cls, user: Any) -> Actor:
        return cls(kind=ActorKind.USER, id=str(user.pk), label=user.get_username(), user=user)

    @classmethod
    def telegram(cls, user_id: int | str, username: str = "") -> Actor:
        return cls(kind=ActorKind.TELEGRAM, id=str(user_id), label=username or str(user_id))

    @classmethod
    def api(cls, label: str = "admin-token") -> Actor:
        return cls(kind=ActorKind.API, id="", label=label)

    def __str__(self) -> str:
        return f"{self.kind}:{self.label or self.id}"
