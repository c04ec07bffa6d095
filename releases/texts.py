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

# Canary analysis. Metric lines are "name: canary X vs stable Y" in METRIC_LINE.
CANARY_FAILED_TITLE = "Канарейка {version} хуже стабильного — откат"
CANARY_FAILED_TEXT = (
    "Анализ канарейки #{analysis}: релиз {version} хуже стабильного ({stable}) за последние {window} мин.\n"
    "{reasons}\n"
    "Сделано автоматически: клиенты с канарейки возвращены на стабильный канал ({tenants}), "
    "релиз {version} снят с канарейки (статус rolled_back).\n"
    "Подробности: админка › Releases board › Canary analysis."
)
CANARY_FAILED_NOTHING_TO_ROLL_BACK = "канарейку уже сняли"
CANARY_INCONCLUSIVE_TITLE = "Канарейка {version}: пока мало данных"
CANARY_INCONCLUSIVE_TEXT = (
    "Анализ канарейки #{analysis}: для сравнения релиза {version} со стабильным ({stable}) нужно не меньше "
    "{min_turns} ответов с каждой стороны за {window} мин.\n{reasons}\n"
    "Жду дальше; повторно об этом не напишу. Решение принять можно и сейчас: /rollback <клиент> или /deploy stable <клиент>."
)
CANARY_UNSURE_TITLE = "Канарейка {version}: похоже, хуже стабильного — проверяю"
CANARY_UNSURE_TEXT = (
    "Анализ канарейки #{analysis}: релиз {version} за последние {window} мин. выглядит хуже стабильного ({stable}), "
    "но ответов пока слишком мало, чтобы это не было случайностью.\n{reasons}\n"
    "Жду больше ответов: если разница подтвердится, канарейка откатится сама. Повторно об этом не напишу. "
    "Решение принять можно и сейчас: /rollback <клиент>."
)
CANARY_NOT_SIGNIFICANT = " — разница пока не значима (z {z} < {min_z})"
CANARY_ANALYSIS_CRASHED_TITLE = "Анализ канарейки не работает"
CANARY_ANALYSIS_CRASHED_TEXT = (
    "Плановый анализ канарейки упал: {error}\n"
    "Пока он не работает, плохая канарейка сама не откатится: проверьте вручную (manage.py canary_analysis, "
    "админка › Error logs)."
)
METRIC_NAMES = {
    "qc_fail_rate": "доля эскалаций по шлюзу качества",
    "escalation_rate": "доля эскалаций",
    "delivery_failure_rate": "доля недоставленных ответов",
    "error_rate": "доля ответов с ошибками",
    "total_ms_p95": "время ответа p95, мс",
    "turns": "ответов",
}
