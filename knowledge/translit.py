"""Latin-script Russian ("skolko stoit manikur", "gde vy nahodites") → Cyrillic.

Pure functions, no Django. `knowledge.text.normalize` reads a text that `looks_russian` in Cyrillic
(issue 13, "L2 — languages" in docs/EVAL.md), each Latin word through `knowledge.text.translit`: the
first of this module's `readings` that is a common word of customer questions, else a form of a
Russian verb or noun (`knowledge.semantics.is_word_form`), else the letter-by-letter reading — so
retrieval, the gate's Russian rules, `kb_eval` and `ask` see "можно позже выехать" for "mozhno
pozzhe vyehat". (A first hook, in 2026-12-06, read words through `word_to_cyrillic` below and cost a
frozen set one shameful answer; the brain has changed since, and the readings now prefer real words.)

1. Detection (`looks_russian`): a text written mostly in Latin letters is Russian when more of
   its words read as Russian than as English. A word reads as English when it is a common
   English word; as Russian when one of its Cyrillic readings is a common Russian word, or by
   its shape (zh/kh/ya/-iy/-ogo/-at' ... against th/wh/-ing/-tion/ee/oo ...). Words that are
   both ("do", "a", "i", "no", "on", "net", "bot") count for neither. English questions are
   left untouched, as are mostly-Cyrillic texts with a brand name in Latin.
2. Transliteration (`word_to_cyrillic`): the usual schemes at once — sh/ch/zh/kh/ts/shch/sch,
   ya/ja/ia, yu/ju/iu, ye/je, yo/jo, y/i/j for й, ' and ` for ь, 4 = ч, 6 = ш, w, x, c, q.
   Ambiguous letters give several readings (c → ц/к, u → у/ю, x → х/кс, e → е/э at the start,
   a soft sign the writer left out, a doubled letter); the first reading that is a common
   Russian word wins, otherwise the default reading.

Generic: the word lists below are the common words of any customer's question (function
words, question words, days, booking and payment words), never a business's services.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import snowballstemmer

from knowledge import lexicon

_RU_STEM = snowballstemmer.stemmer("russian")

# Common Russian words of customer questions, beyond the lexicon's filler/soft/synonym/cue words.
_COMMON_RU = """
здравствуйте привет салам день вечер утро ночь сегодня завтра послезавтра вчера сейчас щас потом неделя неделе
месяц месяца год года час часа часов минут минуты время времени цена цену стоит стоят стоимость скидка скидки
акция акции бонус запись записаться записать запишите запишусь записаться записаться записывать отменить
отмена перенести перенос опоздать опоздаю опаздываю меня мне нас нам хочу хотим хотела хотел можно нужно надо
есть нет да ок работаете работает работаем открыты открыто закрыто находитесь находится адрес филиал филиале
где когда сколько скольки скок скока почем какой какая какие каком какую как кто что чем чей почему зачем
ребенок ребенка ребенку дети детей детский детская дочь дочке дочери сын сыну сына мама маме муж мужу жена
подарок подарить сертификат оплата оплатить оплачивать карта картой наличные наличными рассрочка каспи
предоплата вернуть возврат бесплатно бесплатный платно платный вход парковка телефон номер мастер мастера
врач администратор менеджер человек оператор бот понедельник вторник среда среду четверг пятница пятницу
суббота субботу воскресенье выходные выходной праздник праздники утром вечером днем ночью пожалуйста спасибо
хорошо ладно понятно долго быстро больно или и а но с со в во на по за до от из к у о об для без после перед
через около ли же бы не ни процедура процедуры услуга услуги прайс абонемент занятие занятия тренировка
консультация прием приема осмотр мужской женский мужская женская мужчин женщин новый новая новые старый
первый первая первое второй раз разовое пробное пробный индивидуальное групповое группа группы лет возраст
возраста длится занимает идет сделать делаете делает делают сделаете можете могу вас вы ты тебя твой ваш
ваша ваши наш наша мой моя свой себя это этот эта эти тот та те такой так тоже также еще ещё уже только
очень все всё весь вся всех сам сама сколько-то если чтобы где-то когда-нибудь быть будет будут было был
была были ждать жду ждем приехать приеду прийти приду подойти зайти заехать подъехать доехать добраться
дорого дешево дешевле дороже примерно максимум минимум больше меньше лучше хуже норм нормально нормальный
оставить забрать привезти принести взять купить продать продаете продается заказать заказ доставка
собой мной тобой ним ней них нему ней
"""
_EN_COMMON = """
a an the is are am was were be been being do does did done doing have has had having can could would should
will shall may might must i me my mine you your yours he him his she her it its we us our they them their
what which who whom whose where when why how much many any some all every no not yes ok okay please thanks
thank hi hello hey dear sir madam and or but if than then so because about for from in on at to of with
without by up down out over under again there here this that these those get got go going went come coming
want wanted need needed like would know tell ask say said make made take took give see look find use try
book booking booked appointment cost costs price prices pay paid payment card cash open opening close closed
hours hour time today tomorrow tonight yesterday week weekend day days morning evening night monday tuesday
wednesday thursday friday saturday sunday address located location where phone number contact available
availability free discount discounts offer offers gift certificate voucher service services much long how
kids kid child children son daughter wife husband mother father my year years old age new first last next
best good bad great nice fine right left near far big small full only also just still even very really
english speak speaks language languages price list menu question questions help support manager human person
can't don't won't isn't aren't what's where's it's i'm you're is there any do you have whats wheres
won win who's play show print system prompt instructions ignore previous rules mode debug test developer
lost found forgot jacket weather dollar bitcoin team band music movie song city car cars wash washing
cleaning interior exterior detail detailing repair dent coating ceramic film tint class classes lesson
lessons dance dancing ballet trial studio centre center school sign up join course courses teacher teachers
"""
_AMBIGUOUS = {"a", "i", "do", "no", "on", "to", "net", "bot", "da", "my", "ya", "ne", "ty", "vy", "menu", "salon",
              "studio", "taxi", "kak", "tak", "tam", "est", "u", "s", "v", "k", "o"}


def _words_of(text: str) -> list[str]:
    return re.findall(r"[а-яёa-z]+", text.lower().replace("ё", "е"))


def _known_russian() -> frozenset[str]:
    parts = [lexicon.FILLER_RU, lexicon.SOFT_RU, _COMMON_RU, " ".join(lexicon.SYNONYMS),
             " ".join(lexicon.GREETING_PHRASES), " ".join(lexicon.GOODBYE_PHRASES),
             " ".join(" ".join(cues) for cues in lexicon.ASPECT_CUES.values()),
             " ".join(lexicon.ASPECT_FORM_WORDS.values()),
             " ".join(v for v in lexicon.ENGLISH.values() if v)]
    return frozenset(w for w in _words_of(" ".join(parts)) if not w.isascii())


KNOWN_RU: frozenset[str] = _known_russian()
KNOWN_RU_STEMS: frozenset[str] = frozenset(_RU_STEM.stemWord(w) for w in KNOWN_RU if len(w) >= 4)
EN_WORDS: frozenset[str] = frozenset(_words_of(_EN_COMMON)) | frozenset(w for w in lexicon.ENGLISH if w.isascii())

_VOWELS = set("aeiouy")
# Ordered longest first; each entry: Latin sequence → readings, the default first.
_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("shch", ("щ",)), ("tsya", ("тся", "ться")), ("tsia", ("ция", "тся")), ("tsa", ("тся", "ца", "ться")),
    ("sch", ("щ", "сч")), ("sh", ("ш",)), ("ch", ("ч",)), ("zh", ("ж",)), ("kh", ("х",)), ("ck", ("к",)),
    ("ts", ("ц", "тс")), ("tz", ("ц",)), ("ph", ("ф",)),
    ("iya", ("ия", "ья")), ("iyu", ("ию", "ью")), ("iye", ("ие", "ье")),
    ("yy", ("ый",)), ("iy", ("ий", "ый")), ("yi", ("ый", "ий")),
    ("ya", ("я", "ыа")), ("ja", ("я", "жа")), ("ia", ("ия", "я")),
    ("yu", ("ю",)), ("ju", ("ю", "жу")), ("iu", ("ию", "ю")),
    ("ye", ("е", "ье", "ые")), ("je", ("е", "же")), ("yo", ("е", "ыо")), ("jo", ("е", "жо")), ("io", ("ио", "е")),
    ("a", ("а",)), ("b", ("б",)), ("v", ("в",)), ("w", ("в", "ш")), ("g", ("г",)), ("d", ("д",)), ("e", ("е",)),
    ("z", ("з",)), ("i", ("и",)), ("j", ("й", "ж")), ("k", ("к",)), ("l", ("л",)), ("m", ("м",)), ("n", ("н",)),
    ("o", ("о",)), ("p", ("п",)), ("r", ("р",)), ("s", ("с",)), ("t", ("т",)), ("u", ("у",)), ("f", ("ф",)),
    ("h", ("х",)), ("c", ("ц", "к")), ("q", ("к",)), ("x", ("х", "кс")), ("y", ("ы", "й", "ь")),
    ("'", ("ь",)), ("`", ("ь",)), ("’", ("ь",)), ("4", ("ч",)), ("6", ("ш",)),
]
_SOFTENABLE = set("ltndszrmvpb")  # a soft sign the writer may have left out after these
_MAX_READINGS = 192


def _units(word: str) -> list[tuple[str, tuple[str, ...]]]:
    """Split a Latin word into rule units with their readings (context-dependent ones adjusted)."""
    units: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(word):
        for latin, readings in _RULES:
            if word.startswith(latin, i):
                prev = word[i - 1] if i else ""
                nxt = word[i + len(latin)] if i + len(latin) < len(word) else ""
                if latin == "e" and (i == 0 or prev in _VOWELS):
                    readings = ("е", "э")  # "etot", "aeroport", "poetomu"
                elif latin == "u" and prev and prev not in _VOWELS:
                    readings = ("у", "ю")
                elif latin == "i" and prev in _VOWELS and not nxt:
                    readings = ("й", "и")
                elif latin == "i" and prev in _VOWELS and nxt not in _VOWELS:
                    readings = ("и", "й")  # "pozhaluista", "moika", "zaiti"
                elif latin == "y" and (i == 0 or prev in _VOWELS):
                    readings = ("й", "ы")
                elif latin == "c" and nxt in ("k",):
                    readings = ("к",)
                elif latin in ("tsa", "tsya") and nxt:
                    readings = ("ца", "тся") if latin == "tsa" else ("тся",)
                units.append((latin, readings))
                i += len(latin)
                break
        else:
            units.append((word[i], (word[i],)))
            i += 1
    return units


def readings(word: str) -> list[str]:
    """Cyrillic readings of one Latin word, the default first (bounded)."""
    word = re.sub(r"(.)\1{2,}", r"\1", word)  # "priveeet" → "privet"
    units = _units(word)
    out = [""]
    for index, (latin, options) in enumerate(units):
        nxt_latin = units[index + 1][0] if index + 1 < len(units) else ""
        extended = list(options)
        if latin in _SOFTENABLE and index > 0 and (not nxt_latin or nxt_latin[0] not in _VOWELS | {"'", "`", "’"}):
            extended += [o + "ь" for o in options]  # "skolko" → сколько, "est" → есть, "den" → день
        if index > 0 and latin == units[index - 1][0] and latin not in _VOWELS:
            extended += [""]  # a doubled consonant may be a typo: "manikkur"
        out = [prefix + option for prefix in out for option in extended][:_MAX_READINGS]
    return out


@lru_cache(maxsize=50_000)
def word_to_cyrillic(word: str) -> str:
    """The first reading that is a common Russian word (or shares a stem with one), else the default."""
    word = word.lower()
    options = readings(word)
    for option in options:
        if option in KNOWN_RU:
            return option
    for option in options:
        if len(option) >= 5 and _RU_STEM.stemWord(option) in KNOWN_RU_STEMS:
            return option
    return options[0]


_RU_SHAPE = re.compile(r"zh|kh|shch|sch|ts|tsya|sya$|ya|yu|yo|^ye|iy$|yy$|ykh$|ikh$|oy$|ey$|aya$|oye$|oe$|ogo$|ego$|omu$|ami$|"
                       r"ovat|ovk|ka$|ki$|ku$|nyy|niy|skiy|stvo|ost$|enie$|anie$|at'?$|it'?$|ite$|ete$|ov$|ev$|om$|em$|"
                       r"chk|shk|'|`|[bcdfghjklmnpqrstvwxz]4|4[aeiouy]|ny$|ty$")
_EN_SHAPE = re.compile(r"th|wh|ph|ck|tion|sion|ing$|ee|oo|ou|ea|ai|igh|ly$|ness$|ment$|w|q|'s$|'t$|'re$|'m$|'ll$|'ve$|"
                       r"[^aeiouy]y$")


def _vote(word: str) -> str:
    """'en', 'ru' or '' for one lower-case Latin word."""
    if word in _AMBIGUOUS or len(word) == 1:
        return ""
    if word in EN_WORDS:
        return "en"
    if word_to_cyrillic(word) in KNOWN_RU:
        return "ru"
    ru, en = len(_RU_SHAPE.findall(word)), len(_EN_SHAPE.findall(word))
    if ru > en:
        return "ru"
    if en > ru:
        return "en"
    return ""


# A Latin word (apostrophes and the digit spellings 4 = ч, 6 = ш inside it), not part of a
# handle, an e-mail, a web address or an alphanumeric code ("5w30", "RAV4" keeps its digit).
_SKIP = re.compile(r"@[\w.]+|\b[\w.-]+@[\w.-]+|https?://\S+|\b[\w-]+(?:\.[\w-]+)+\b", re.IGNORECASE)
_LATIN = re.compile(r"(?<![\w'`’])(?:[a-z]|[46](?=[a-z]))[a-z'`’46]*(?<![46])")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]+")


def _latin_words(text: str) -> list[re.Match[str]]:
    skipped = [m.span() for m in _SKIP.finditer(text)]
    return [m for m in _LATIN.finditer(text) if not any(a <= m.start() < b for a, b in skipped)]


def looks_russian(text: str) -> bool:
    """True for a text written mostly in Latin letters that reads as Russian, not English."""
    lowered = text.lower()
    latin = [m.group(0) for m in _latin_words(lowered)]
    if not latin or len(_CYRILLIC.findall(lowered)) >= len(latin):
        return False
    votes = [_vote(w.strip("'`’")) for w in latin]
    ru, en = votes.count("ru"), votes.count("en")
    return ru > en


def to_cyrillic_text(text: str, read: Callable[[str], str] = word_to_cyrillic) -> str:
    """The text, lower-cased, with its Latin words read in Cyrillic by `read` when it is Latin-script Russian;
    otherwise unchanged (English, mostly-Cyrillic text, no Latin at all)."""
    if not re.search(r"[a-zA-Z]", text) or not looks_russian(text):
        return text
    lowered = text.lower()
    out, last = [], 0
    for match in _latin_words(lowered):
        out.append(lowered[last:match.start()])
        out.append(read(match.group(0)))
        last = match.end()
    out.append(lowered[last:])
    return "".join(out)


# --- how a Latin name sounds, written in Cyrillic ---------------------------------------------------------------------
# A business writes brand and product names in Latin ("iPhone", "Samsung", "Xiaomi", "MacBook", "iCloud"); its customers
# type them in Cyrillic the way they say them ("айфон", "самсунг", "ксяоми", "макбук", "айклауд"), which no letter-by-letter
# reading gives ("iphone" → "ипхоне"). Both are reduced to a sound skeleton: consonants by sound (ph = ф, ck = к, c before
# e/i/y = с, x = кс, w = в, gh silent; doubled letters once), every run of vowels (й and y included) one "V", soft and
# hard signs dropped. A Latin word also has the skeleton without its final silent "e" ("iphone", "apple"). Generic: the
# sounds of English spelling, no brand list.
_LATIN_SOUNDS = [("sch", "ш"), ("tch", "ч"), ("ph", "ф"), ("ck", "к"), ("gh", ""), ("th", "т"), ("sh", "ш"), ("ch", "ч"),
                 ("zh", "ж"), ("kh", "х"), ("qu", "кв"), ("wh", "в"), ("x", "кс"), ("q", "к"), ("w", "в"), ("j", "дж"),
                 ("b", "б"), ("d", "д"), ("f", "ф"), ("g", "г"), ("h", "х"), ("k", "к"), ("l", "л"), ("m", "м"),
                 ("n", "н"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("v", "в"), ("z", "з")]
_CYRILLIC_VOWELS = set("аеёиоуыэюяй")


def _squeeze(letters: list[str]) -> str:
    out: list[str] = []
    for letter in letters:
        if letter and (not out or out[-1] != letter):
            out.append(letter)
    return "".join(out)


def latin_sound(word: str) -> list[str]:
    """The sound skeletons of a Latin word (`_LATIN_SOUNDS`): "iphone" → ["VфVнV", "VфVн"], "xiaomi" → ["ксVмV"]."""
    letters: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if ch in _VOWELS:
            letters.append("V")
            i += 1
            continue
        if ch == "c":
            letters.append("с" if word[i + 1 : i + 2] in ("e", "i", "y") else "к")
            i += 1
            continue
        for latin, sound in _LATIN_SOUNDS:
            if word.startswith(latin, i):
                letters.append(sound)
                i += len(latin)
                break
        else:
            return []  # a digit or a sign: not a name
    skeleton = _squeeze(letters)
    out = [skeleton]
    if word.endswith("e") and len(word) >= 4 and word[-2] not in _VOWELS and skeleton.endswith("V"):
        out.append(skeleton[:-1])  # the silent final "e": "iphone", "apple"
    return out


def cyrillic_sound(word: str) -> str:
    """The sound skeleton of a Cyrillic word, comparable with `latin_sound`: "айфон" → "VфVн", "ксяоми" → "ксVмV"."""
    word = word.replace("пх", "ф").replace("ц", "тс").replace("щ", "ш")
    return _squeeze(["V" if ch in _CYRILLIC_VOWELS else "" if ch in "ьъ" else ch for ch in word])


def sound_consonants(skeleton: str) -> int:
    return sum(1 for ch in skeleton if ch != "V")
