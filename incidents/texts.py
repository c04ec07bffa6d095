"""Russian one-liners of incidents: titles per check kind (the CEO reads them in Telegram).
Longer texts are templates under templates/incidents/incidents/."""

from __future__ import annotations

CHECK_TITLES = {
    "web.health": "Веб-сервис не отвечает на /health",
    "database": "База данных недоступна",
    "redis": "Redis недоступен",
    "broker": "Брокер задач недоступен",
    "qdrant": "Qdrant недоступен",
    "qdrant.collection": "Коллекция Qdrant пропала",
    "qdrant.points": "Индекс базы знаний не совпадает с Postgres",
    "chatflow": "ChatFlow не доставляет ответы",
    "pipeline.silent": "Клиенты остались без ответа",
    "outbox.backlog": "Очередь работы застряла",
    "delivery.failure_rate": "Много отказов в доставке ответов",
    "errors.spike": "Всплеск ошибок",
    "telegram.alerts": "Оповещения в Telegram не доходят",
    "sentinel.heartbeat": "Sentinel перестал проверять систему",
}

SEVERITY_LABELS = {"critical": "🔴 Критично", "warning": "⚠️ Внимание", "info": "ℹ️ Информация"}
STATUS_LABELS = {"open": "открыт", "acknowledged": "принят", "resolved": "закрыт"}

INCIDENT_ACKNOWLEDGED = "Принято: инцидент #{id} ваш."
INCIDENT_ALREADY_ACKNOWLEDGED = "Инцидент #{id} уже принят ({who})."
INCIDENT_ALREADY_RESOLVED = "Инцидент #{id} уже закрыт."
INCIDENT_NOT_FOUND = "Инцидент не найден."


def check_title(kind: str) -> str:
    return CHECK_TITLES.get(kind) or CHECK_TITLES.get(kind.split(".", 1)[0]) or f"Проверка {kind} не проходит"

# What the fixer will try by itself, per incident kind (shown in the opening alert).
REMEDIATION_TEXTS = {
    "qdrant.collection": "пересоберу индекс базы знаний из Postgres",
    "qdrant.points": "пересоберу индекс этого клиента из Postgres",
    "pipeline.silent": "поставлю зависшие сообщения в очередь заново",
    "outbox.backlog": "поставлю зависшую работу в очередь заново",
    "chatflow": "когда ChatFlow ответит, отправлю неотправленные ответы заново (тот же ключ — без дублей)",
}


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form: 1 проверка, 2 проверки, 5 проверок, 21 проверка."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
