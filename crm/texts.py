"""Customer- and manager-facing texts of the CRM features (Russian), in one place.

Formatted with `str.format`; every placeholder is filled by `crm.booking` / `crm.visits`.
"""

from __future__ import annotations

MONTHS_GENITIVE = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября",
                   "декабря"]
WEEKDAYS_ACCUSATIVE = ["в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу", "в воскресенье"]

TEXTS = {
    "ask_service": "Подскажите, пожалуйста, на какую услугу вас записать? Например: {examples}.",
    "ask_service_which": "Уточните, пожалуйста, какая именно услуга: {options}?",
    "ask_day": "На какой день вас записать на {service}?",
    "free_times": "{service} ({price}, {length}) {day}{master} свободно: {times}. Какое время вам удобно?",
    "no_times_day": "{day_cap} на {service}{master} свободного времени нет. Ближайшее свободное: {alternatives}. Подойдёт?",
    "taken": "К сожалению, {day} в {time}{master} уже занято. Ближайшее свободное время: {alternatives}. Какое выбрать?",
    "propose": "Записать вас на {service} {day}, в {time}{master}? Стоимость {price}, длительность {length}. "
               "Ответьте «да» или «нет».",
    "booked": "Готово! Вы записаны на {service} {day}, в {time}{master}. Номер записи: {record_id}. "
              "Если планы изменятся — напишите, перенесём или отменим.",
    "declined": "Хорошо, не записываю. Если захотите выбрать другое время — просто напишите.",
    "already_booked": "Вы уже записаны, ничего дополнительно подтверждать не нужно. Ждём вас!",
    "in_progress": "Уже оформляю вашу запись, подтверждение придёт следующим сообщением.",
    "reask_confirm": "Записать вас на {service} {day}, в {time}{master}? Ответьте, пожалуйста, «да» или «нет».",
    "propose_cancel": "Отменить вашу запись на {service} {day}, в {time}{master}?{rule} Ответьте «да» или «нет».",
    "cancelled": "Запись на {service} {day}, в {time} отменена. Будем рады видеть вас в другой раз!",
    "cancel_kept": "Хорошо, запись остаётся в силе. Ждём вас!",
    "propose_reschedule": "Перенести вашу запись на {service} с {old_day}, {old_time} на {day}, в {time}{master}?{rule} "
                          "Ответьте «да» или «нет».",
    "rescheduled": "Готово! Запись перенесена: {service} {day}, в {time}{master}. Номер записи: {record_id}.",
    "ask_reschedule_when": "На какой день и время перенести вашу запись на {service} ({old_day}, {old_time})?",
    "no_upcoming": "Я не нашёл предстоящих записей на ваш номер. Передаю вопрос администратору.",
    "opted_out": "Хорошо, больше не будем присылать напоминания о визитах. Если передумаете — напишите нам.",
    "rating_thanks": "Спасибо за оценку! Будем рады видеть вас снова.",
    "rating_sorry": "Спасибо за честную оценку. Нам очень жаль — администратор свяжется с вами, чтобы во всём разобраться.",
    "visit_confirmed": "Спасибо, ждём вас!",
    # Messages around a visit.
    "remind_day_before": "Здравствуйте{name}! Напоминаем: завтра, {day}, в {time} вы записаны на {service}{master}. "
                         "Подтвердите, пожалуйста: ответьте «да» или «отменить». Отписаться от напоминаний — «стоп».",
    "remind_two_hours": "Напоминаем: сегодня в {time} вы записаны на {service}{master}. До встречи!",
    "thank_you": "Спасибо, что были у нас{name}! Оцените, пожалуйста, визит от 1 до 5 — это поможет нам стать лучше.",
    "rebook_nudge": "Здравствуйте{name}! С прошлого визита на {service} прошло {days} дн. Записать вас снова? "
                    "Напишите удобный день и время.",
    # Managers.
    "manager_card": "📅 Новая запись через бота: {service}, {day}, {time}{master}. Клиент: {customer} ({phone}). Запись №{record_id}.",
    "manager_cancel_card": "❌ Клиент отменил запись через бота: {service}, {day}, {time}. Клиент: {customer} ({phone}). "
                           "Запись №{record_id}.",
    "manager_reschedule_card": "🔁 Клиент перенёс запись через бота: {service}, теперь {day}, {time}{master}. "
                               "Клиент: {customer} ({phone}). Запись №{record_id}.",
    "manager_reschedule_old_kept": "⚠️ Перенос записи: новая запись №{record_id} создана ({service}, {day}, {time}{master}), "
                                   "но старую запись №{old_record_id} CRM удалить не дала ({error}). Удалите её в CRM вручную, "
                                   "иначе за клиентом {customer} ({phone}) останутся оба времени.",
}


def text(template: str, /, **values: object) -> str:
    return TEXTS[template].format(**values)
