"""CEO-facing alert texts of the releases app (Russian). `str.format` placeholders only."""

from __future__ import annotations

DEFAULTS_NAME = "встроенные настройки"

CANARY_STARTED_TITLE = "Канарейка: релиз {version}"
CANARY_STARTED_TEXT = (
    "Канареечный канал переключён на релиз {version} (было: {previous}).\n"
    "Образ: {image_tag}. Клиентов на канарейке: {tenants}.\nКто: {actor}."
)

STABLE_PROMOTED_TITLE = "Стабильный релиз: {version}"
STABLE_PROMOTED_TEXT = (
    "Релиз {version} стал стабильным для всех клиентов (было: {previous}).\n"
    "Образ: {image_tag}.\nКто: {actor}."
)

STABLE_ROLLED_BACK_TITLE = "Откат стабильного релиза: {from_version} → {to_version}"
STABLE_ROLLED_BACK_TEXT = (
    "Стабильный канал откатен с {from_version} на {to_version}.\n"
    "Причина: {reason}\nКто: {actor}."
)

CANARY_ROLLED_BACK_TITLE = "Откат канарейки ({version})"
CANARY_ROLLED_BACK_TEXT = (
    "Релиз {version} снят с канарейки; клиенты вернулись на стабильный канал: {tenants}.\n"
    "Причина: {reason}\nКто: {actor}."
)

FIX_STATUS_TITLE = "Фикс #{id}: {status}"
FIX_STATUS_TEXT = "{title}\nВетка: {branch}{sha}\n{detail}"

FIX_STATUS_NAMES = {
    "proposed": "предложен",
    "ci_running": "CI запущен",
    "ci_passed": "CI пройден",
    "ci_failed": "CI упал",
    "canary": "на канарейке",
    "verified": "проверен на канарейке",
    "released": "выпущен в стабильный канал",
    "rolled_back": "откатен",
}
