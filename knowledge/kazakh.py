"""Kazakh customer questions → the Russian words the matcher understands.

Pure functions, no Django. `knowledge.text.normalize` calls `to_russian` on every folded text,
after Kazakh letters were folded onto Russian ones (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ/ү→у, һ→х, і→и).
A text is treated as Kazakh only when it shows it (`looks_kazakh`): Kazakh-specific letters in
two or more words, or two or more words that only Kazakh has ("канша", "кайда", "турады") —
so Russian items that mention "Әл-Фараби" and Russian words that look Kazakh ("бар", "не",
"мен") are left alone.

Then question phrases become the Russian question forms ("бағасы қанша" → "сколько стоит",
"нешеге дейін" → "до скольки", "жұмыс уақыты" → "график работы", "бар ма" → "есть"), and words
are looked up by stem with Kazakh endings allowed after it ("мекенжайыңыз" → "адрес",
"жексенбіде" → "воскресенье", "балам" → "ребенок"); question particles and pronouns are
dropped. Words with no entry (a service, a place name) are kept: the matcher treats them as
any word the KB may or may not know, so a question about something the KB lacks still hands
over. Generic: the words of any customer's question to a salon, clinic or studio — never one
business's services.
"""

from __future__ import annotations

import re
from functools import lru_cache

_FOLD = str.maketrans({"ё": "е", "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и"})
KAZAKH_LETTERS = frozenset("әғқңөұүһі")


def _f(text: str) -> str:
    return text.lower().translate(_FOLD)


# Phrases first (longest first), written in Kazakh and folded at import.
_PHRASES_KK = {
    "қанша тұрады": "сколько стоит", "қанша тұрайды": "сколько стоит", "қанша болады": "сколько стоит",
    "бағасы қанша": "сколько стоит", "бағасы қандай": "сколько стоит", "баға қанша": "сколько стоит",
    "құны қанша": "сколько стоит", "ақысы қанша": "сколько стоит", "қанша төлеймін": "сколько стоит",
    "қанша уақыт алады": "сколько длится", "қанша уақытқа созылады": "сколько длится", "қанша уақыт": "сколько длится",
    "қанша минут": "сколько длится", "қанша сағат": "сколько длится", "ұзақ па": "долго",
    "сағат нешеге дейін": "до скольки", "нешеге дейін": "до скольки", "қашанға дейін": "до скольки",
    "сағат нешеден": "со скольки", "нешеден бастап": "со скольки", "нешеден": "со скольки",
    "сағат нешеде": "во сколько", "нешеде": "во сколько",
    "жұмыс уақыты": "график работы", "жұмыс уақытыңыз": "график работы", "жұмыс кестесі": "график работы",
    "жұмыс кестеңіз": "график работы", "жұмыс тәртібі": "режим работы",
    "жұмыс істейсіздер": "работаете", "жұмыс істейсіз": "работаете", "жұмыс істейді": "работает",
    "жұмыс жасайсыздар": "работаете", "жұмыс жасайсыз": "работаете", "жұмыс жасайды": "работает",
    "қайда орналасқансыздар": "где находитесь", "қайда орналасқан": "где находится", "қалай жетуге": "как добраться",
    "неше жастан": "с какого возраста", "қанша жастан": "с какого возраста", "жастан бастап": "с какого возраста",
    "бар ма екен": "есть", "бар ма": "есть", "барма": "есть", "жоқ па": "нет",
    "бола ма екен": "можно", "бола ма": "можно", "болама": "можно", "болады ма": "можно",
    "сол жағалау": "левый берег", "оң жағалау": "правый берег", "оңтүстік-шығыс": "юго-восток",
    "оңтүстік-батыс": "юго-запад", "солтүстік-шығыс": "северо-восток", "солтүстік-батыс": "северо-запад",
    "бөліп төлеу": "рассрочка", "қолма-қол": "наличные", "ер адам": "мужской", "ер адамдарға": "мужской",
    # meals, stays, dates (the general vocabulary of any small service business)
    "таңғы ас": "завтрак", "түскі ас": "обед", "кешкі ас": "ужин", "жаңа жыл": "новый год",
    "туған күн": "день рождения", "кіру уақыты": "заезд", "кіру сағаты": "заезд",
    "шығу уақыты": "выезд", "шығу сағаты": "выезд", "қолма қол": "наличные",
    "нақты ақша": "наличные", "көлік тұрағы": "парковка", "үй жануары": "животные", "үй жануарлары": "животные",
    "кіре ме": "входит", "кіреді ме": "входит", "бас тарту": "отмена", "ақшаны қайтару": "вернуть деньги",
    "неше күн бұрын": "за сколько дней", "қанша күн бұрын": "за сколько дней", "тапсырыс беру": "заказать",
    "аяқ киім": "обувь", "алып кету": "забрать", "алып кетесіздер": "заберете", "алып кетесіз": "заберете",
    "қан анализі": "анализ крови", "қан тапсыру": "анализ крови", "химиялық тазалау": "химчистка",
    "қашан дайын": "когда будет готово",
    # eyes and optics: "көз тексеру" is an eye check, "бір күндік" one-day (lenses), "айлық" monthly
    "көз тексеру": "проверка зрения", "көру қабілетін тексеру": "проверка зрения", "көру қабілеті": "зрение",
    "бір күндік": "однодневные", "екі апталық": "двухнедельные", "бір айлық": "месячные",
}

# Stems → Russian word ("" drops a function word). Kazakh endings may follow a stem. Folding
# merges some words ("құн" cost and "күн" day are both "кун"): those live in phrases only.
_WORDS_KK = {
    # question words and particles
    "қанша": "сколько", "неше": "сколько", "қаншадан": "почем", "қайда": "где", "қашан": "когда", "қалай": "как",
    "қандай": "какой", "қай": "какой", "кім": "кто", "не": "что", "неге": "почему", "ма": "", "ме": "", "ба": "",
    "бе": "", "па": "", "пе": "", "ше": "", "ғой": "", "қой": "", "екен": "", "ал": "", "ғана": "только",
    # price
    "тұрады": "стоит", "тұратын": "стоит", "баға": "цена", "ақы": "стоимость",
    "ақылы": "платно", "тегін": "бесплатно", "ақысыз": "бесплатно", "төлем": "оплата", "төлеу": "оплата",
    "карта": "карта", "жеңілдік": "скидка", "акция": "акция", "сыйлық": "подарочный",
    # place
    "мекенжай": "адрес", "орналас": "находитесь", "филиал": "филиал", "кіреберіс": "вход", "тұрақ": "парковка",
    "орталық": "центр",
    # time and days
    "уақыт": "время", "сағат": "час", "минут": "минут", "кесте": "график", "жұмыс": "работа", "істей": "",
    "жасай": "", "ашық": "открыты", "ашыл": "открываетесь", "жабық": "закрыто", "жабыл": "закрываетесь",
    "бүгін": "сегодня", "ертең": "завтра", "бүрсігүні": "послезавтра", "қазір": "сейчас", "кешке": "вечером",
    "таңертең": "утром", "дүйсенбі": "понедельник", "сейсенбі": "вторник", "сәрсенбі": "среда",
    "бейсенбі": "четверг", "жұма": "пятница", "сенбі": "суббота", "жексенбі": "воскресенье",
    "демалыс": "выходной", "мереке": "праздник", "күн": "день", "ұзақ": "долго", "созыл": "длится",
    # is there / can I / booking
    "бар": "есть", "жоқ": "нет", "бола": "можно", "болад": "можно", "мүмкін": "можно", "керек": "нужно",
    "жазыл": "записаться", "жазу": "записать", "жазып": "запишите", "жазба": "запись", "болдырма": "отменить",
    "ауыстыр": "перенести", "кешік": "опоздать", "келу": "", "кел": "", "өтеді": "",
    # people and pronouns
    "сіз": "", "сіздер": "", "мен": "", "біз": "", "маған": "", "менің": "", "бұл": "", "осы": "", "және": "и",
    "үшін": "для", "адам": "человек", "әкімші": "администратор", "менеджер": "менеджер", "бала": "ребенок",
    "балалар": "дети", "қызым": "дочь", "ұлым": "сын", "әйел": "женский", "ер": "мужской", "жас": "лет",
    # contacts
    "телефон": "телефон", "нөмір": "номер", "байланыс": "контакты", "рақмет": "спасибо", "иә": "да",
    # what salons, clinics and studios are asked about
    "сабақ": "занятие", "сынақ": "пробное", "жаттығу": "тренировка", "жаттықтырушы": "тренер", "ұстаз": "педагог",
    "мұғалім": "педагог", "шебер": "мастер", "дәрігер": "врач", "кеңес": "консультация", "тексеру": "осмотр",
    "емдеу": "лечение", "тіс": "зуб", "шаш": "волосы", "тырнақ": "ногти", "қас": "брови", "кірпік": "ресницы",
    "бет": "лицо", "биі": "танец", "билеу": "танцы", "оңтүстік": "юг", "солтүстік": "север", "шығыс": "восток",
    "батыс": "запад", "жағалау": "берег", "қазақ": "казахский", "көлік": "машина", "сертификат": "сертификат",
    # entry and exit, included, places and rooms
    "кіру": "вход", "кіре": "входит", "кіреді": "входит", "шығу": "выезд", "ерте": "рано", "кешірек": "позже",
    "кеш": "поздно", "бөлме": "номер", "тау": "горы", "көше": "улица", "қала": "город", "аудан": "район",
    "үй": "дом", "жақын": "рядом", "алыс": "далеко",
    # meals, animals, people
    "ас": "еда", "тамақ": "еда", "ит": "собака", "мысық": "кошка", "жануар": "животные", "бала-шаға": "дети",
    "қонақ": "гости", "екі": "2", "үш": "3", "төрт": "4", "алты": "6", "жеті": "7", "сегіз": "8", "тоғыз": "9",
    # booking, cancelling, paying
    "бер": "", "бронда": "забронировать", "брондау": "бронь", "бронь": "бронь", "тапсырыс": "заказ", "қайтар": "вернуть",
    "ақша": "деньги", "аударым": "перевод", "аудар": "перевод", "кепіл": "залог", "алдын ала": "предоплата",
    "қолма": "наличные", "төлей": "оплатить", "төлен": "оплата",
    # time
    "апта": "неделя", "жыл": "год", "түн": "ночь", "тәулік": "сутки", "күндіз": "днем", "мерзім": "срок",
    "қаңтар": "январь", "ақпан": "февраль", "сәуір": "апрель", "мамыр": "май", "маусым": "июнь",
    "шілде": "июль", "тамыз": "август", "қыркүйек": "сентябрь", "қараша": "ноябрь", "желтоқсан": "декабрь",
    # general verbs of services: wash, pull out, complex (a full package)
    "жуу": "мойка", "жуып": "помыть", "жұлу": "удаление", "жұлып": "удалить", "кешенді": "комплексная",
    # delivering, ordering, "via" (a postposition: "Kaspi арқылы" is "через Kaspi")
    "жеткізу": "доставка", "жеткіз": "доставка", "арқылы": "", "тапсырыс беру": "заказать",
    # clothes, textiles and home things (cleaners, ateliers, shops)
    "киім": "одежда", "көйлек": "платье", "шалбар": "брюки", "күрте": "куртка", "күртеше": "куртка", "етік": "сапоги",
    "кілем": "ковер", "перде": "шторы", "көрпе": "одеяло", "жастық": "подушка", "сөмке": "сумка", "жиһаз": "мебель",
    "тазалау": "чистка", "тазарт": "чистка", "үтіктеу": "глажка", "тігу": "пошив", "тігін": "пошив", "жөндеу": "ремонт",
    "жөнде": "ремонт", "қысқарт": "укоротить", "ауыстыру": "замена", "бояу": "покраска", "дақ": "пятно",
    "дайын": "готово", "әкел": "привезти", "апар": "отвезти",
    # health, clinics and vets
    "ауру": "болезнь", "ауыр": "болит", "дәрі": "лекарство", "екпе": "прививка", "талдау": "анализ", "ота": "операция",
    "жүкті": "беременность", "емхана": "клиника", "аурухана": "стационар", "күшік": "щенок",
    "жүн": "шерсть", "құс": "птица",
    # sport, food, cars, documents
    "жүзу": "плавание", "спортзал": "зал", "тәтті": "десерт", "нан": "хлеб", "сүт": "молоко", "қант": "сахар",
    "дөңгелек": "колеса", "әйнек": "стекло", "құжат": "документы", "шарт": "договор", "түбіртек": "квитанция",
    "несие": "кредит", "кепілдік": "гарантия",
    # eyes and optics
    "көзілдірік": "очки", "жақтау": "оправа", "линза": "линзы", "көз": "зрение", "тексер": "проверить", "дүкен": "магазин",
}

# Short stems (two letters) that take an ending; "итпен" is "с собакой" (the comitative: "with X").
_SHORT_STEMS = {"ит": "собака", "ас": "еда", "ай": "месяц"}
_COMITATIVE = ("мен", "бен", "пен")

# Words Russian also has (or that are too short to tell): they do not mark a text as Kazakh.
_SHARED = {"бар", "не", "мен", "ер", "бет", "жас", "карта", "акция", "филиал", "телефон", "минут", "менеджер",
           "сертификат", "ал", "ма", "ме", "ба", "бе", "па", "пе", "ше", "би", "кел", "кун", "бала", "жума", "адам",
           "кас", "биз", "уш", "ай", "сол", "он", "орта"}

# Kazakh case, possessive, plural and question endings (folded), any order of up to three.
_SUFFIX = re.compile(
    r"(?:лар|лер|дар|дер|тар|тер|ыныз|иниз|ымыз|имиз|ныз|низ|мыз|миз|ым|им|ын|ин|ны|ни|сы|си|ы|и|н|м|"
    r"нын|нин|дын|дин|тын|тин|га|ге|ка|ке|на|не|а|е|ды|ди|ты|ти|нда|нде|да|де|та|те|дан|ден|тан|тен|нан|нен|"
    r"мен|бен|пен|дагы|деги|тагы|теги|ндагы|ндеги|гы|ги|кы|ки|дай|дей|тай|тей|ша|ше|сыз|сиз|лык|лик|дык|дик|"
    r"тык|тик|ма|ме|ба|бе|па|пе|сын|син|уга|уге|у|ып|ип|п|ган|ген|кан|кен|шы|ши){0,3}"
)

PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"(?<![а-я]){re.escape(_f(k))}(?:{_SUFFIX.pattern})(?![а-я])"), v)
    for k, v in sorted(_PHRASES_KK.items(), key=lambda kv: len(kv[0]), reverse=True)
]
WORDS: dict[str, str] = {_f(k): v for k, v in _WORDS_KK.items()}
_STEMS = sorted((k for k in WORDS if len(k) >= 3), key=len, reverse=True)
# Kazakh words that fold onto a Russian word a Kazakh question also uses as a loanword: "төрт" (four) is "торт"
# (a cake) once ө is folded. Such a word is read as Kazakh only when the text writes its Kazakh letter; "Торттың
# бағасы қанша?" asks the price of a cake.
_FOLDS_ONTO_RUSSIAN = {_f(k): k for k in ("төрт",)}
_STRONG = frozenset(k for k in WORDS if k not in _SHARED and len(k) >= 4)
_WORD = re.compile(r"[а-я]+(?:-[а-я]+)?")
_NUMBER_ENDING = re.compile(r"(\d)-(?:[а-я]{1,4})(?![а-я])")
_DAY_OF = re.compile(r"((?:дуйсенби|сейсенби|сарсенби|бейсенби|жума|сенби|жексенби|ертен|бугин|демалыс|мереке)[а-я]*)"
                     r"\s+кун(?:и|и[нд]е|ге)?(?![а-я])")


@lru_cache(maxsize=50_000)
def lookup(word: str) -> str | None:
    """The Russian word for a folded Kazakh word ("" = a function word), or None when unknown. A content word
    with the comitative ending ("-мен/-бен/-пен": "итпен", "баламен", "картамен") is "с" + the word ("with X")."""
    if word in WORDS:
        return WORDS[word]
    for stem, russian in [*((s, WORDS[s]) for s in _STEMS), *_SHORT_STEMS.items()]:
        ending = word[len(stem):]
        if word.startswith(stem) and ending and _SUFFIX.fullmatch(ending):
            if russian and ending.endswith(_COMITATIVE) and " " not in russian and not russian.isdigit():
                return f"с {russian}"
            return russian
    return None


def looks_kazakh(lowered: str) -> bool:
    """Kazakh letters in two words, or two words only Kazakh has (customers often type Kazakh
    without its letters: "канша турады")."""
    words = re.findall(r"[а-яёәғқңөұүһі]+", lowered)
    with_letters = sum(1 for w in words if KAZAKH_LETTERS & set(w))
    if with_letters >= 2 and with_letters * 4 >= len(words) or (with_letters and len(words) <= 2):
        return True
    strong = 0
    for word in words:
        folded = _f(word)
        if folded in _SHARED:
            continue
        found = lookup(folded)
        if found is not None and any(folded.startswith(s) for s in _STRONG):
            strong += 1
    return strong + with_letters >= 2 and (strong + with_letters) * 3 >= len(words)


def to_russian(folded: str, lowered: str | None = None) -> str:
    """`folded` (normalised text) with Kazakh question phrases and words replaced by Russian ones,
    when the text (`lowered`, before folding, to see Kazakh letters) is Kazakh; else unchanged."""
    if not looks_kazakh(lowered if lowered is not None else folded):
        return folded
    text = _NUMBER_ENDING.sub(r"\1", folded)  # "10-ға", "7-де": the number, without its case ending
    text = _DAY_OF.sub(r"\1", text)  # "сенбі күні" is "on Saturday", not a question about a day
    text = re.sub(r"(?<![а-я])сагат\s+(?=\d)", "в ", text)  # "сағат 7-де" is "at 7"
    for pattern, russian in PHRASES:
        text = pattern.sub(russian, text)

    plain = {folded_word for folded_word in _FOLDS_ONTO_RUSSIAN
             if re.search(rf"(?<![а-яёәғқңөұүһі]){folded_word}", lowered if lowered is not None else folded)}

    def word(match: re.Match[str]) -> str:
        if plain and any(match.group(0).startswith(w) for w in plain):
            return match.group(0)  # the Russian loanword, written without the Kazakh letter
        found = lookup(match.group(0))
        if found is None:
            return match.group(0)
        return found

    return re.sub(r"  +", " ", _WORD.sub(word, text))


# The case, possessive and plural endings a Kazakh question puts on a Russian loanword ("цехтың мекенжайы" — the
# workshop's address, "тортқа" — for a cake, "Шымкенттегі"): at least two letters, so a Russian word's own ending
# ("торта") is never read as one.
_LOAN_ENDING = re.compile(_SUFFIX.pattern.replace("{0,3}", "{1,3}"))


def loanword_stems(word: str) -> list[str]:
    """The stems a folded word may be once a Kazakh ending is taken off (longest stem first, at least 3 letters)."""
    return [word[:cut] for cut in range(len(word) - 2, 2, -1) if _LOAN_ENDING.fullmatch(word[cut:])]
