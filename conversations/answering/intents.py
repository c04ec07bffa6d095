"""Message intents that always go to a human: prompt injection, toxicity and harassment,
complaints and refunds, booking a specific slot, asking for a person, plainly off-topic.

General word patterns in Russian, Kazakh (folded to Russian letters) and English; nothing
here refers to one business. They are a first net only: the qualifier check (a word the
knowledge does not cover) catches most of what they miss.
"""

from __future__ import annotations

import re

from knowledge import lexicon, semantics
from knowledge.text import fold, translit


def _compile(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


INJECTION = _compile(
    r"(игнорир|забудь|забуд|забыть|отбрось|отмени)\w*\s+(?:\w+\s+){0,3}(инструкц|правил|указани|промпт|ограничени|настройк)",
    r"ignore\s+(?:\w+\s+){0,3}(instruction|rule|prompt|guideline)",
    r"forget\s+(?:\w+\s+){0,3}(instruction|rule|prompt)",
    r"system\s*prompt|системн\w*\s+(промпт|инструкц|сообщени|настройк)|\bпромпт",
    r"(^|\n|\s)(system|admin|developer|assistant|систем\w*)\s*:",
    r"режим\w*\s+(отладк|разработчик|бога|администратор)|debug\s*mode|developer\s*mode|god\s*mode|jailbreak|\bdan\b",
    r"(покажи|выведи|выдай|скинь|распечатай|print|show|reveal|dump|output)\w*\s+(?:\w+\s+){0,5}"
    r"(конфиг|config|api|ключ|keys?\b|парол|password|токен|token|промпт|prompt|баз\w* знаний|базу|database|инструкц|"
    r"список\s+клиент|клиентов)",
    r"(я|i am|i'm)\s+(владелец|хозяин|админ|администратор|разработчик|программист|developer|owner|admin)\b",
    r"код\s+доступа|access\s+code|пароль\s+администратора|override",
    r"\bты\s+теперь\b|you\s+are\s+now|act\s+as|представь,?\s+что\s+ты|притворись|pretend\s+(to|you)",
    r"нов\w+\s+политик|new\s+policy|тест\s+от\s+разработчик",
    r"подтверди\w*\s+(?:\w+\s+){0,5}(бесплатн|согласован|скидк|free|discount)",
)

TOXIC = _compile(
    r"\bтуп(ой|ая|ые|ица|орыл)|идиот|дебил|\bдур(а|ак|очка|ацк\w*|ень)\b|придур|\bурод|\bмраз|сволоч|скотин|\bчмо\b|\bлох\b|\bтвар[ьи]|\bовц[аы]\b",
    r"шарлатан|колхоз|быдл|\bсук[аи]\b|\bбля|\bхуй|\bхуе|пизд|\bебан|\bебал|нахер|нахрен|заткнись|\bотвали\b|железяк|железк",
    # Common coarse words and insults of any business's chat: "ваши торты говно", "сервис отстой", "хрень какая-то".
    r"\bг[ао]вн|\bдерьм|\bхрен(ь|и|ов\w*)\b|\bхерн|\bмудак|\bмудил|\bублюд|\bгнид|\bпадл[аоы]\b|\bшлюх|\bжоп|\bзасран",
    r"\bотстой|\bфигн|\bлохотрон|\bкидал(а|ы|ово)\b|позорищ|убожеств|\bпошли\s+вы\b|\bпош(ла|[её]л)\s+ты\b",
    r"развлеки|скажи\s+что-?нибудь\s+смешн|расскажи\s+анекдот|поговори\s+со\s+мной",
    r"симпатичн|красотк|сексуальн|секси|\bsexy|голы[ей]|личн\w+\s+номер|номер\s+(её|ее|его)|скинь\s+(её|ее|его)|фото\s+(её|ее)",
    r"\bstupid|\bidiot|\bdumb\b|\bfuck|\bshit|\bbitch|\bmoron|\bscam\b|useless\s+bot|\bcrap|\bsucks?\b|\basshole|\bbastard|\bwtf\b",
    r"акымак|есек|жынды|малсын|\bшошка|\bит\s+баласы|\bиттин\s+баласы",
)

COMPLAINT = _compile(
    r"верн(ите|уть|ёте|ете|и)\s+(мне\s+)?(деньги|денег|оплату|предоплату)|возврат\w*\s+(денег|средств)|refund|money\s+back",
    r"недовол|не\s+понравил|ужасн|кошмар|отвратител|безобрази|возмущ|в\s+шоке|жалоб|претензи|руководств|начальств",
    r"нагруб|хамил|хамств|хамк|испортил|испорчен|обожгл|ожог|порезал|порез|кров[ьи]|покраснен|высыпан|раздражени|воспален|\bот[её]к",
    r"аллергическ\w+\s+реакц|отслоил|отвалил|слезл|сломал|облез|не\s+тот\s+цвет|цвет\s+(вообще\s+)?не\s+тот|обманул|обман\b",
    r"complain|terrible|awful|disappointed|шагым|нашар",
)

_BOOK_STRONG = _compile(
    r"запиш(и|ите|ешь|ете)\b|записать\s+меня|запишусь|перенес(и|ите)\b|перенест\w*\s+(мою|мне|меня)|"
    r"отмен(и|ите)\s+(мою|мне|меня|запис)|забронир|\bбронь\b|book\s+(me|a|an|for)\b|make\s+an\s+appointment|reschedule|"
    r"cancel\s+my|жазыныз|жазылгым|жазылайын|жазып\s+кой|"
    # An order placed in the imperative for the asker: "закажите мне дисплей", "оформите нам торт".
    r"(?:закаж|оформ)(?:и|ите)\s+(?:мне|нам)\b",
)
_BOOK_WEAK = _compile(
    r"хочу\s+(записаться|подстричься|покраситься|на\s+\w+|к\s+\w+|прийти)|можно\s+(записаться|к\s+\w+|на\s+\w+)|"
    r"есть\s+(ли\s+)?(свободн|окошк|окно|время|мест)|свободн\w*\s+(мест|окошк|окно|время|мастер)|окошк|"
    r"can\s+i\s+(book|come)|availab|appointment|slot",
)
_WHEN = _compile(
    r"\b(завтра|послезавтра|сегодня|сейчас|вечером|утром|днём|днем)\b|"
    r"\b(в|во|на)\s+(понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье|выходные)\b|"
    r"\d{1,2}[:.]\d{2}|\b\d{1,2}\s*(утра|вечера|часов|час|am|pm)\b|\bна\s+\d{1,2}\b|после\s+\d|"
    r"\b(tomorrow|today|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\b(ертен|бугин)\b",
)

# "как забронировать номер?", "как отменить бронь?": a question about the procedure (answered from the knowledge),
# not a request to book one, when it names no time and no booking of the asker's own ("мою бронь").
_HOW_TO_BOOK = _compile(r"(?<![а-яa-z])как\s+(?:[а-яa-z]+\s+){0,2}(?:забронир|запис|отмен|перенес|перенест|брон)")
_OWN_BOOKING = _compile(r"(?<![а-яa-z])(?:мою|мой|моё|мое|мне|меня|нас|наш|нашу|нашей|наше)\s+(?:[а-яa-z]+\s+)?(?:брон|запис)"
                        r"|(?:брон\w*|запис\w*)\s+(?:на\s+)?(?:мою|мой|моё|мое|нашу|наш|наше|фамили)")

MANAGER = _compile(
    r"(позов|соедин|переключ|передай|дайте|дай)\w*\s+(меня\s+)?(с\s+|на\s+)?(администратор|менеджер|человек|оператор|руководител)",
    r"(хочу|можно)\s+(поговорить|пообщаться|связаться)\s+с\s+(\w+\s+)?(администратор|менеджер|человек|оператор)",
    r"(talk|speak)\s+to\s+(a\s+)?(human|person|manager|operator)|real\s+person",
)

OFFTOPIC = _compile(
    r"погод|прогноз\s+погоды|курс\s+(доллар|валют|евро|тенге|рубл)|биткоин|bitcoin|крипт|crypto|акци[ия]\s+(apple|tesla)",
    r"\bвыбор(ы|ах|ов)\b|президент|\bвойн[аеуы]\b|election|politic",
    r"рецепт|сочинени|эссе|домашн\w*\s+задани|реши(ть)?\s+(задач|пример|уравнени)|уравнени|\d+\s*[a-zа-я]\s*[+\-*/]\s*\d+\s*=",
    r"футбол|football|champions\s+league|лига\s+чемпионов|сериал|фильм|movie|анекдот|гороскоп|homework|weather",
)


def _prepared(text: str) -> str:
    """Folded text, plus its Latin words transliterated ("zapishite menya" → "запишите меня")."""
    folded = fold(text)
    latin = re.findall(r"[a-z']+", folded)
    if latin:
        folded = f"{folded}\n{' '.join(translit(w) for w in latin)}"
    return folded


# "отменю за день до выдачи, вернёте предоплату?", "если не приду, деньги вернёте?": a question about the refund
# rule, asked with the future "вернёте" in a message that ends with a question mark; a demand says "верните" (or adds
# a complaint word, which the other patterns catch).
_REFUND = _compile(COMPLAINT.pattern.split("|(?:", 1)[0])
_REFUND_QUESTION = _compile(r"(?<![а-я])верн[её]те\s+(?:мне\s+)?(?:деньги|денег|оплату|предоплату)(?![а-я])[^!?]*\?\s*$",
                            r"(?<![а-я])(?:деньги|оплату|предоплату)\s+(?:мне\s+)?верн[её]те(?![а-я])[^!?]*\?\s*$")


# --- the customer's own broken thing (or pet's symptom) is the reason to ask for the service -------
# "оправа сломалась посередине, спаять можно?", "ребенок сломал оправу, брали у вас в сентябре, поменяете?",
# "замок сломался на куртке, меняете? цена", "покрытие облезло через полгода, это по гарантии?", "у кота
# покраснение глаз, можно на осмотр?": to a repair shop, an optician, a dry cleaner or a vet the broken thing or
# the symptom is what the service is for, not a grievance. A complaint blames the business: "вы сломали",
# "сломали (they) при чистке", "мастер сломал", "после вашего ремонта облезло", "после прививки отёк", "уже
# облезла, требую компенсацию", "сломалась через месяц, это ужасно!". So a message whose only complaint words
# are damage or symptom words (`_DAMAGE`) is a service request when all of these hold, and a complaint otherwise
# (the net stays as wide as before for every other complaint word):
# - no damage verb in the past plural of an agent ("сломали", "порезали", "обожгли": an unnamed "they" is the
#   business; the intransitive "облезли", "слезли" are no agent);
# - nothing points at the business or its people: no "вы/вам/ваш…/вас" (the place "у вас" is no agent), no
#   "после" (damage after something, i.e. after their work), no staff noun, and no other past-plural verb than
#   a purchase ("брали/купили у вас"; "поставили", "починили", "привезли" are the business's work);
# - no grievance: no "!", no demand, blame, "again/already" or "what now" word;
# - it asks something ("?" or a question word).
# A damage word right after "не" ("чтоб не сломала сразу") states no damage at all.
_DAMAGE = re.compile(r"сломал|облез|отслоил|отвалил|слезл|обожгл|ожог|порезал|порез|кров[ьи]|покраснен|высыпан|"
                     r"раздражени|воспален|\bот[её]к|аллергическ\w+\s+реакц")
_NEGATED = re.compile(r"(?<![а-я])не\s+$")
_TOWARDS_BUSINESS = _compile(
    r"(?<![а-я])(?:вы|вам|вами|ваш\w*|после)(?![а-я])", r"(?<![а-я])(?<!у\s)вас(?![а-я])",
    r"(?<![а-я])(?:мастер|врач|доктор|сотрудни|администратор|админ|курьер|персонал|парикмахер|стилист|тренер|"
    r"инструктор|ветеринар|ветврач|продав|консультант|менеджер|оптометрист|окулист|кассир|водител|механик|техник|"
    r"приемщи|педагог|преподавател|няня|воспитател|повар|кондитер|официант|горничн|портн|швея)",
)
_GRIEVANCE = _compile(
    r"!", r"(?<![а-я])(?:требу[юе]\w*|компенсац\w*|возмест\w*|возмещ\w*|почему|зачем|виноват\w*|вин[аеуы]|"
    r"нормально|разберитесь|опять|снова|уже|сразу\s+же)(?![а-я])",
    r"что\s+(?:\w+\s+)?делать|как\s+так|сколько\s+можно",
)
_ASKS = _compile(r"\?", r"(?<![а-я])(?:можно|ли|сколько|цена|цену|стоимость|почем|почём)(?![а-я])")
_PURCHASE = re.compile(r"(?:по)?куп|брал|взял|заказ|приобр")
_WORD = re.compile(r"[а-я]+")
_WORD_END = re.compile(r"[а-я]*$")


def _own_damage_request(folded: str, damage: list[re.Match[str]]) -> bool:
    """True when the damage words `damage` of `folded` describe the customer's own broken thing (or pet's symptom)
    they ask a service for (see above), not a grievance against the business."""
    for found in damage:
        word = folded[found.start() - len(_WORD_END.search(folded, 0, found.start()).group(0)):]
        word = _WORD.match(word).group(0)
        if word.endswith("ли") and not word.startswith(("облез", "слез")):
            return False
    if _TOWARDS_BUSINESS.search(folded) or _GRIEVANCE.search(folded) or not _ASKS.search(folded):
        return False
    for word in _WORD.findall(folded):
        if (word.endswith("ли") and not _DAMAGE.search(word) and not _PURCHASE.match(word)
                and semantics.is_verb_form(word)):
            return False
    return True


def _complaint(folded: str) -> bool:
    found = COMPLAINT.search(folded)
    if found is None:
        return False
    matches = [m for m in COMPLAINT.finditer(folded)
               if not (_DAMAGE.fullmatch(m.group(0)) and _NEGATED.search(folded, 0, m.start()))]
    if not matches:
        return False
    if all(_DAMAGE.fullmatch(m.group(0)) for m in matches) and _own_damage_request(folded, matches):
        return False
    found = matches[0]
    rest = folded[:found.start()] + " " + folded[found.end():]
    asked = all(_REFUND_QUESTION.search(line) for line in folded.splitlines() if _REFUND.search(line))
    return not (_REFUND.fullmatch(found.group(0)) and asked and not COMPLAINT.search(rest))


def detect(text: str) -> dict[str, bool]:
    folded = _prepared(text)
    booking = bool(_BOOK_STRONG.search(folded)) or (bool(_BOOK_WEAK.search(folded)) and bool(_WHEN.search(folded)))
    if booking and _HOW_TO_BOOK.search(folded) and not _WHEN.search(folded) and not _OWN_BOOKING.search(folded):
        booking = False
    return {
        "injection": bool(INJECTION.search(folded)),
        "toxic": bool(TOXIC.search(folded)),
        "complaint": _complaint(folded),
        "booking": booking,
        "manager_request": bool(MANAGER.search(folded)),
        "offtopic": bool(OFFTOPIC.search(folded)),
    }


def matched_fragment(pattern_name: str, text: str) -> str:
    pattern = {"injection": INJECTION, "toxic": TOXIC, "complaint": COMPLAINT, "manager_request": MANAGER,
               "offtopic": OFFTOPIC}.get(pattern_name)
    if pattern is None:
        found = _BOOK_STRONG.search(_prepared(text)) or _BOOK_WEAK.search(_prepared(text))
    else:
        found = pattern.search(_prepared(text))
    return found.group(0)[:60] if found else ""


# --- small talk ------------------------------------------------------------------------------------
# A burst made only of a greeting, thanks, a goodbye or an acknowledgement ("ок", "понятно") has no
# question to answer and nothing a manager needs to see: the brain replies with the release's
# small-talk template instead of handing it over. Anything else in the burst (a content word, a
# number) and it is not small talk.
_SOCIAL_PHRASES = {
    "thanks": ["большое спасибо", "спасибо большое", "thank you", "thanks a lot", "рахмет", "рақмет", "спасибо", "спасибки",
               "спс", "благодарю", "благодарим", "thanks", "thx", "мерси"],
    "bye": [*lexicon.GOODBYE_PHRASES, "сау болыныз", "good bye", "goodbye", "bye", "пока"],
    "greeting": [*lexicon.GREETING_PHRASES, "здравствуйте", "здрасте", "здрасьте", "здравствуй", "приветствую", "привет",
                 "приветик", "салам", "салем", "hello", "hi", "hey"],
    "ack": ["понятно", "ясно", "хорошо", "ладно", "ок", "окей", "okay", "ok", "ага", "угу", "договорились", "отлично",
            "супер", "принято", "поняла", "понял", "жақсы", "жаксы"],
}
# Words that may accompany them without making a question ("спасибо вам большое", "да, понятно").
_SOCIAL_EXTRA = {"вам", "вас", "тебе", "очень", "огромное", "большое", "и", "да", "нет", "всё", "все", "тоже", "еще", "ещё",
                 "раз", "вы", "так", "уже", "понятненько", "а", "ну", "ой", "мне", "всем", "девочки", "девушки"}
_SOCIAL = sorted(((fold(p), kind) for kind, phrases in _SOCIAL_PHRASES.items() for p in phrases), key=lambda pk: -len(pk[0]))
_SOCIAL_EXTRA_FOLDED = {fold(w) for w in _SOCIAL_EXTRA}
_SMALLTALK_PRIORITY = ("thanks", "bye", "greeting", "ack")
_NON_WORD = re.compile(r"[^\w]+")


def smalltalk(text: str) -> str | None:
    """"thanks" (thanks or goodbye), "greeting" or "ack" when the text is nothing but that; else None."""
    folded = fold(text)
    if re.search(r"\d", folded):
        return None
    folded = " " + _NON_WORD.sub(" ", folded) + " "
    kinds = set()
    for phrase, kind in _SOCIAL:
        padded = f" {phrase} "
        if padded in folded:
            kinds.add(kind)
            folded = folded.replace(padded, " ")
    leftover = [w for w in folded.split() if w not in _SOCIAL_EXTRA_FOLDED]
    if leftover or not kinds:
        return None
    kind = next(k for k in _SMALLTALK_PRIORITY if k in kinds)
    return "thanks" if kind == "bye" else kind
