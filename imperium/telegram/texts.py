"""Short Russian texts of the Telegram control plane (one-liners: command summaries, button
answers). Longer messages are Django templates under templates/telegram/ (see `render`)."""

from __future__ import annotations

from typing import Any

from imperium.plaintext import render_plain

# Command summaries shown by /help, keyed by command name.
COMMAND_SUMMARIES = {
    "help": "список команд",
    "status": "здоровье системы, канал релиза, ошибки и оповещения клиента",
    "incident": "инцидент: хронология, трасса, логи",
    "deploy": "перевести клиента на канал canary / выкатить stable",
    "rollback": "немедленно вернуть клиента на stable",
    "kb": "продвинуть версию базы знаний клиента в stable",
}

CALLBACK_DONE = "Готово"
CALLBACK_STALE = "Эта кнопка больше не действует."
CALLBACK_FORBIDDEN = "У вас нет прав на это действие."
CALLBACK_FAILED = "Не получилось, попробуйте ещё раз через минуту."
CALLBACK_ALREADY_DONE = "Уже сделано."
ALERT_ACKNOWLEDGED = "Принято. Остальные увидят, что вы занялись этим."
ALERT_ALREADY_ACKNOWLEDGED = "Уже принял(а) {who}."
ALERT_NOT_FOUND = "Оповещение не найдено."
VERIFY_APPROVE_BUTTON = "✅ Подтвердить"
VERIFY_REJECT_BUTTON = "✖️ Отклонить"
VERIFY_APPROVED = "Подтверждено и выполнено."
VERIFY_REJECTED = "Отклонено."
VERIFY_FAILED = "Подтверждено, но выполнить не удалось: {error}"
VERIFY_ALREADY = "Уже решено: {status}."
VERIFY_REFUSED = "Не выполнено: {message}"
VERIFY_NOT_VERIFIER = "Подтверждать и отклонять такие запросы может только CEO."


def render(name: str, **context: Any) -> str:
    """Render templates/telegram/<name>.txt."""
    return render_plain(f"telegram/{name}.txt", context)
