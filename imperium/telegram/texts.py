"""Short Russian texts of the Telegram control plane (one-liners: command summaries, button
answers). Longer messages are Django templates under templates/telegram/ (see `render`)."""

from __future__ import annotations

from typing import Any

from imperium.core.plaintext import render_plain

# Command summaries shown by /help, keyed by command name.
COMMAND_SUMMARIES = {
    "help": "список команд",
    "status": "клиент: здоровье, канал и релиз, версия базы знаний, трафик за 24 ч, эскалации, доставка, инциденты, ошибки",
    "incident": "инцидент: хронология, трасса, логи",
    "deploy": "перевести клиента на канал canary / выкатить stable",
    "rollback": "немедленно вернуть клиента на stable",
    "kb": "продвинуть версию базы знаний клиента в stable",
    "digest": "отправить клиенту сводку за сутки сейчас",
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
VERIFY_SELF_APPROVAL = "Свой запрос подтвердить нельзя: его должен подтвердить другой проверяющий (правило четырёх глаз)."


# --- manager hand-over (conversations in tenant chats) ---------------------------------------
# Why a conversation came to a human, as managers read it (conversations.choices.EscalationReason).
ESCALATION_REASONS = {
    "no_knowledge": "в базе знаний нет ответа",
    "low_confidence": "бот не уверен в ответе",
    "ambiguous": "вопрос понятен неоднозначно",
    "ungrounded": "ответ не подтверждается базой знаний",
    "unsupported_qualifier": "спрашивают о том, чего нет в базе знаний",
    "offtopic": "вопрос не по теме",
    "toxic": "грубость или оскорбления",
    "injection": "попытка управлять ботом",
    "booking": "запись, перенос или отмена",
    "complaint": "жалоба или возврат",
    "non_text": "не текст (фото, голосовое, файл)",
    "too_long": "слишком длинное сообщение или ответ",
    "delivery_failed": "ответ не удалось доставить клиенту",
    "dependency_down": "сервис, нужный для ответа, недоступен",
    "manager_requested": "клиент просит менеджера",
    "wrong_answer": "бот ответил неверно",
    "other": "другое",
}
# How a non-text customer message is shown (conversations.choices.MessageType).
MESSAGE_TYPES = {
    "image": "фото", "audio": "аудио", "voice": "голосовое", "video": "видео", "document": "документ", "sticker": "стикер",
    "location": "геопозиция", "contact": "контакт", "other": "вложение",
}
BUTTON_TAKE = "✋ Взять"
BUTTON_RETURN_TO_BOT = "🤖 Вернуть боту"
BUTTON_CLOSE = "✅ Закрыть"
BUTTON_WRONG_ANSWER = "❌ Бот ответил неверно"
# "3 раза", "5 раз": how many times a question was asked (digest), as (one, few, many).
TIMES = ("раз", "раза", "раз")
WRONG_ANSWER_RECORDED = "Спасибо, записали. Диалог передан менеджеру — поправьте клиента."
WRONG_ANSWER_PAUSED = "Записали. Пункт базы знаний «{items}» отмечен неверным второй раз за неделю: бот больше не отвечает по нему."
WRONG_ANSWER_ALREADY = "Этот ответ уже отмечен как неверный."
WRONG_ANSWER_LINE = "❌ Ответ бота отмечен неверным: {who}"
CONVERSATION_TAKEN = "Диалог ваш: бот молчит. Ответ клиенту — сообщением в теме или ответом (reply) на карточку."
CONVERSATION_RETURNED = "Диалог снова ведёт бот."
CONVERSATION_CLOSED = "Диалог закрыт."
CONVERSATION_ALREADY_TAKEN = "Диалог уже у менеджера{who}."
CONVERSATION_ALREADY_BOT = "Диалог уже ведёт бот."
CONVERSATION_ALREADY_CLOSED = "Диалог уже закрыт."
CONVERSATION_NOT_FOUND = "Диалог не найден."
MANAGER_EDIT_NOT_SENT = "✏️ Исправления не отправляются клиенту — он уже получил первый вариант. Напишите новое сообщение."
MANAGER_MEDIA_NOT_SENT = "📎 Клиенту уходят только текстовые сообщения: фото, файлы и голосовые не пересылаются. Напишите текстом."
MANAGER_REPLY_REFUSED = "⚠️ Не отправлено клиенту: {message}"
MANAGER_NOTE_EMPTY = "Заметка пустая — нечего сохранить."

# --- knowledge suggestions (learned from hand-overs) -------------------------------------------
BUTTON_KB_ACCEPT = "📚 В базу знаний"
BUTTON_KB_EDIT = "✏️ Изменить"
BUTTON_KB_REJECT = "🚫 Не надо"
KB_SUGGESTION_ACCEPTED = "Добавлено в черновик базы знаний. После проверки (kb_eval) его продвинут в работу."
KB_SUGGESTION_REJECTED = "Хорошо, не добавляем."
KB_SUGGESTION_ALREADY = "Уже решено: {status}."
KB_SUGGESTION_NOT_FOUND = "Предложение не найдено."
KB_SUGGESTION_EDIT_HINT = "Ответьте (reply) на карточку исправленным текстом ответа."
KB_SUGGESTION_EDIT_PROMPT = "✏️ Ответьте (reply) на карточку выше исправленным текстом ответа — он попадёт в базу знаний."
KB_SUGGESTION_ACCEPTED_LINE = "📚 Добавил(а) в базу знаний: {who} (черновик v{version})"
KB_SUGGESTION_EDITED_LINE = "✏️ Исправил(а) и добавил(а): {who} (черновик v{version})"
KB_SUGGESTION_REJECTED_LINE = "🚫 Не надо: {who}"


def render(name: str, **context: Any) -> str:
    """Render templates/telegram/<name>.txt."""
    return render_plain(f"telegram/{name}.txt", context)
