"""English customer questions → the Russian words the matcher understands.

Pure functions, no Django. `knowledge.text.normalize` calls `to_russian` on every folded text,
next to the Kazakh hook (`knowledge.kazakh`). A text is treated as English only when it shows it
(`looks_english`): mostly Latin words, more of them reading as English than as Russian by
`knowledge.translit`'s word vote (common English words, the glossary below, word shape) — so
Latin-script Russian ("skolko stoit manikur") and Russian text with a Latin brand name
("Сколько стоит Kaspi Red?") are left alone.

Then English question phrases become the Russian question forms ("how much is" → "сколько
стоит", "what time do you close" → "до скольки", "where are you located" → "где вы находитесь",
"is there" → "есть", "can i pay by card" → "можно оплатить картой"), "7pm" becomes "19:00", and
words are looked up in a general glossary of small-service-business words (with plural and
Snowball-stem forms). English function words are dropped. Words with no entry (a service the
glossary does not know, a place name) are kept as they are: the matcher treats them as any
word the KB may or may not know, so a question about something the KB lacks still hands over.
Generic: the words any customer asks a salon, clinic, studio or car service — never one
business's services or an eval set's cases.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from knowledge import translit

_EN = snowballstemmer.stemmer("english")

# Contractions written out before matching phrases.
_CONTRACTIONS = [
    (r"\bwhat's\b", "what is"), (r"\bwhere's\b", "where is"), (r"\bwhen's\b", "when is"), (r"\bhow's\b", "how is"),
    (r"\bit's\b", "it is"), (r"\bthat's\b", "that is"), (r"\bthere's\b", "there is"), (r"\bi'm\b", "i am"),
    (r"\bi'd\b", "i would"), (r"\bi'll\b", "i will"), (r"\byou're\b", "you are"), (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"), (r"\bdon't\b", "do not"), (r"\bdoesn't\b", "does not"), (r"\bisn't\b", "is not"),
    (r"\baren't\b", "are not"), (r"\bwon't\b", "will not"), (r"\bwhats\b", "what is"), (r"\bwheres\b", "where is"),
]

# Question phrases → Russian question forms, longest first. `{x}` is not used: phrases are literal.
_PHRASES_EN = {
    # price
    "how much does it cost": "сколько стоит", "how much would it cost": "сколько стоит",
    "how much will it cost": "сколько стоит", "how much does": "сколько стоит", "how much do": "сколько стоит",
    "how much is": "сколько стоит", "how much are": "сколько стоит", "how much for": "сколько стоит",
    "how much": "сколько стоит", "what is the price of": "цена", "what is the price for": "цена",
    "what is the price": "цена", "what are the prices": "цены", "what is the cost of": "стоимость",
    "what is the cost": "стоимость", "price list": "прайс", "price of": "цена", "price for": "цена",
    "cost of": "стоимость", "is it free": "бесплатно", "for free": "бесплатно", "free of charge": "бесплатно",
    # hours
    "what are your opening hours": "график работы", "what are your working hours": "график работы",
    "what are your hours": "график работы", "opening hours": "график работы", "working hours": "график работы",
    "business hours": "график работы", "hours of operation": "график работы", "work schedule": "график работы",
    "what time do you open": "со скольки работаете", "when do you open": "со скольки работаете",
    "what time do you close": "до скольки работаете", "when do you close": "до скольки работаете",
    "what time are you open until": "до скольки работаете", "how late are you open": "до скольки работаете",
    "what time are you open": "во сколько работаете", "do you open": "со скольки работаете",
    "do you close": "до скольки работаете", "until what time": "до скольки", "till what time": "до скольки",
    "how late": "до скольки", "open until": "работаете до", "open till": "работаете до", "open on": "работаете в",
    "are you open": "работаете", "do you work": "работаете", "are you working": "работаете",
    "from what time": "со скольки",
    "what time": "во сколько", "day off": "выходной", "days off": "выходные", "on weekends": "в выходные",
    "on the weekend": "в выходные", "public holidays": "праздники", "right now": "сейчас",
    # place
    "where are you located": "где вы находитесь", "where are you": "где вы находитесь",
    "where is your": "где находится", "where is the": "где находится", "where is it": "где находится",
    "what is your address": "адрес", "your address": "адрес", "how do i get to you": "где вы находитесь",
    "how to get to you": "где вы находитесь", "how do i get there": "где вы находитесь",
    "how to get there": "где вы находитесь", "how can i find you": "где вы находитесь",
    "how to find you": "где вы находитесь", "how do i find you": "где вы находитесь",
    "car park": "парковка", "parking lot": "парковка", "parking space": "парковка", "place to park": "парковка",
    "what is your location": "адрес", "city centre": "центр", "city center": "центр",
    "phone number": "номер телефона", "contact number": "номер телефона", "call you": "позвонить",
    # payment
    "can i pay by card": "можно оплатить картой", "can i pay with card": "можно оплатить картой",
    "can i pay with a card": "можно оплатить картой", "can i pay by a card": "можно оплатить картой",
    "do you accept cards": "оплата картой", "do you accept card": "оплата картой",
    "do you take cards": "оплата картой", "accept cards": "оплата картой", "accept card": "оплата картой",
    "pay by card": "оплатить картой", "pay with card": "оплатить картой", "pay with a card": "оплатить картой",
    "by card": "картой", "card payment": "оплата картой", "credit card": "карта", "debit card": "карта",
    "can i pay in cash": "можно оплатить наличными", "pay in cash": "оплатить наличными",
    "pay cash": "оплатить наличными", "in cash": "наличными", "bank transfer": "перевод",
    "pay by transfer": "оплатить переводом", "by transfer": "переводом", "in installments": "в рассрочку",
    "pay in advance": "предоплата", "pay later": "оплатить потом",
    # discounts and gifts
    "gift certificate": "подарочный сертификат", "gift card": "подарочный сертификат",
    "gift voucher": "подарочный сертификат", "promo code": "промокод", "loyalty program": "программа лояльности",
    "loyalty card": "карта лояльности", "special offer": "акция", "special offers": "акции",
    # booking
    "book an appointment": "записаться", "make an appointment": "записаться", "book a session": "записаться",
    "make a booking": "записаться", "sign up for": "записаться на", "sign up": "записаться",
    "can i book": "можно записаться", "can i sign up": "можно записаться", "can i come": "можно прийти",
    "cancel my appointment": "отменить запись", "cancel my booking": "отменить запись",
    "cancel the appointment": "отменить запись", "change my appointment": "перенести запись",
    "move my appointment": "перенести запись", "free slot": "свободное время", "free slots": "свободное время",
    "available slot": "свободное время", "available slots": "свободное время", "be late": "опоздать",
    "running late": "опаздываю",
    # duration
    "how long does it take": "сколько длится", "how long does it last": "сколько длится",
    "how long will it take": "сколько длится", "how long does": "сколько длится", "how long is": "сколько длится",
    "how long": "сколько длится", "how many minutes": "сколько длится", "how many hours": "сколько длится",
    # age
    "from what age": "с какого возраста", "what age": "с какого возраста", "how old": "сколько лет",
    "age limit": "с какого возраста", "years old": "лет", "year old": "лет", "year olds": "лет",
    "years of age": "лет",
    # is there / can I
    "do you have": "есть", "do you offer": "есть", "do you provide": "есть", "do you do": "делаете",
    "is there a": "есть", "is there an": "есть", "is there any": "есть", "are there any": "есть",
    "is there": "есть", "are there": "есть", "is it possible to": "можно", "is it possible": "можно",
    "can not": "нельзя", "can i": "можно", "can we": "можно", "may i": "можно", "could i": "можно", "i want to": "хочу",
    "i would like to": "хочу", "i would like": "хочу", "i need": "нужно",
    # services (general vocabulary of salons, clinics, studios, car services)
    "gel polish": "гель-лак", "nail extension": "наращивание ногтей", "nail extensions": "наращивание ногтей",
    "lash extension": "наращивание ресниц", "lash extensions": "наращивание ресниц",
    "eyelash extension": "наращивание ресниц", "eyelash extensions": "наращивание ресниц",
    "hair extension": "наращивание волос", "hair extensions": "наращивание волос",
    "hair coloring": "окрашивание волос", "hair colouring": "окрашивание волос", "hair dye": "окрашивание волос",
    "men's haircut": "мужская стрижка", "mens haircut": "мужская стрижка", "kids haircut": "детская стрижка",
    "children's haircut": "детская стрижка", "teeth whitening": "отбеливание зубов",
    "teeth cleaning": "чистка зубов", "dental cleaning": "чистка зубов", "professional cleaning": "профессиональная чистка",
    "tooth extraction": "удаление зуба", "root canal": "лечение каналов", "dental implant": "имплант",
    "blood test": "анализ крови", "face cleaning": "чистка лица", "facial cleaning": "чистка лица", "skin care": "уход",
    "trial lesson": "пробное занятие", "trial class": "пробное занятие", "free trial": "бесплатное пробное",
    "trial session": "пробное занятие", "trial workout": "пробная тренировка", "first lesson": "первое занятие",
    "group class": "групповое занятие", "group classes": "групповые занятия", "group lesson": "групповое занятие",
    "private lesson": "индивидуальное занятие", "individual lesson": "индивидуальное занятие",
    "personal training": "персональная тренировка", "personal trainer": "персональный тренер",
    "single visit": "разовое посещение", "one-time visit": "разовое посещение", "drop-in": "разовое посещение",
    "dry clean": "химчистка", "dry-clean": "химчистка", "sugar-free": "без сахара", "sugar free": "без сахара",
    "gluten-free": "без глютена", "gluten free": "без глютена",
    "down jacket": "пуховик", "puffer jacket": "пуховик", "fur coat": "шуба", "sheepskin coat": "дубленка",
    "wedding dress": "свадебное платье", "evening dress": "вечернее платье", "leather jacket": "кожаная куртка",
    "driving school": "автошкола", "driving lessons": "уроки вождения", "birthday cake": "торт на день рождения",
    "car wash": "мойка", "interior cleaning": "химчистка салона", "dry cleaning": "химчистка",
    "ceramic coating": "керамика", "window tinting": "тонировка", "oil change": "замена масла",
    "tire change": "шиномонтаж", "tyre change": "шиномонтаж", "tire fitting": "шиномонтаж",
    "wheel alignment": "развал-схождение", "protective film": "пленка",
    # eyes and optics
    "contact lenses": "контактные линзы", "contact lens": "контактные линзы", "daily contact lenses": "однодневные линзы",
    "daily lenses": "однодневные линзы", "daily contacts": "однодневные линзы", "monthly lenses": "месячные линзы",
    "eye test": "проверка зрения", "eye exam": "проверка зрения", "eye examination": "проверка зрения",
    "eye check": "проверка зрения", "eye checkup": "проверка зрения", "vision test": "проверка зрения",
    "sight test": "проверка зрения", "check eyes": "проверка зрения", "check your eyes": "проверка зрения",
    "check children's eyes": "проверка зрения детям", "check kids eyes": "проверка зрения детям",
    "blue light": "синего света", "reading glasses": "очки для чтения", "anti-glare": "антибликовое",
    "anti glare": "антибликовое", "anti-reflective": "антибликовое", "antireflective": "антибликовое",
    # stays, meals, getting there (general words of guest houses, studios, clinics alike)
    "check-in": "заезд", "check in": "заезд", "checkin": "заезд", "check-out": "выезд", "check out": "выезд",
    "checkout": "выезд", "early check-in": "ранний заезд", "late check-out": "поздний выезд",
    "late checkout": "поздний выезд", "airport transfer": "трансфер аэропорт", "airport shuttle": "трансфер аэропорт",
    "transfer from the airport": "трансфер из аэропорта", "transfer to the airport": "трансфер в аэропорт",
    "pick up from the airport": "трансфер из аэропорта", "pick me up": "встретить", "pick up": "забрать",
    "drop off": "привезти", "extra bed": "доп кровать", "per night": "за ночь", "a night": "за ночь",
    "per person": "с человека", "per hour": "в час", "an hour": "в час", "per month": "в месяц",
    "security deposit": "залог", "us dollars": "доллары", "foreign currency": "валюта",
    "bring my dog": "с собакой", "bring a dog": "с собакой", "bring my pet": "с животными",
    "bring a pet": "с животными", "with a dog": "с собакой", "with my dog": "с собакой", "with a cat": "с кошкой",
    "with pets": "с животными",
    "with kids": "с детьми", "with children": "с детьми", "with a child": "с ребенком", "with a baby": "с ребенком",
    "pet friendly": "с животными", "pet-friendly": "с животными", "included in the price": "входит в стоимость",
    "is included": "входит", "are included": "входят", "not included": "не входит",
    "lactose-free": "без лактозы", "lactose free": "без лактозы", "shopping mall": "трц", "shopping centre": "трц",
    "shopping center": "трц",
}

# Words → Russian words ("" drops an English function word). Plural and Snowball-stem forms are
# found too ("manicures", "lessons").
_WORDS_EN = {
    # function words, pronouns, politeness
    **dict.fromkeys(
        "a an the is are am was were be been being do does did your you yours my me i we our us it its this that "
        "these those there here some of on with by please pls plz hi hello hey thanks thank would will should "
        "shall just also so very really then about just ok okay".split(), ""),
    "what": "какой", "which": "какой", "where": "где", "when": "когда", "how": "как", "who": "кто", "why": "почему",
    "much": "сколько", "many": "сколько", "can": "можно", "could": "можно", "may": "можно", "possible": "можно",
    "need": "нужно", "want": "хочу", "and": "и", "or": "или", "but": "но", "not": "не", "no": "нет", "yes": "да",
    "for": "для", "at": "в", "from": "с", "to": "на", "in": "в", "until": "до", "till": "до", "before": "до", "after": "после",
    "without": "без", "only": "только", "any": "", "have": "есть", "has": "есть",
    # price and payment
    "price": "цена", "prices": "цены", "cost": "стоимость", "costs": "стоит", "pricing": "цены", "fee": "стоимость",
    "charge": "стоимость", "expensive": "дорого", "cheap": "дешево", "cheaper": "дешевле", "free": "бесплатно",
    "pay": "оплатить", "payment": "оплата", "paying": "оплата", "card": "карта", "cards": "карты", "cash": "наличные",
    "transfer": "перевод", "installment": "рассрочка", "installments": "рассрочка", "prepayment": "предоплата",
    "deposit": "предоплата", "refund": "возврат", "accept": "принимаете",
    # discounts, gifts
    "discount": "скидка", "discounts": "скидки", "promo": "акция", "promotion": "акция", "sale": "акция",
    "offer": "акция", "certificate": "сертификат", "voucher": "сертификат", "gift": "подарочный",
    "bonus": "бонус", "bonuses": "бонусы", "cashback": "кэшбэк", "birthday": "день рождения",
    "subscription": "абонемент", "membership": "абонемент", "pass": "абонемент",
    # time
    "hours": "часы работы", "hour": "час", "minutes": "минут", "minute": "минут", "open": "работаете",
    "opening": "открытие", "closing": "закрытие", "closed": "закрыто",
    "schedule": "расписание", "timetable": "расписание", "time": "время", "today": "сегодня",
    "tomorrow": "завтра", "tonight": "сегодня вечером", "now": "сейчас", "morning": "утром", "evening": "вечером",
    "afternoon": "днем", "weekend": "выходные", "weekends": "выходные", "weekday": "будни", "weekdays": "будни",
    "holiday": "праздник", "holidays": "праздники", "monday": "понедельник", "tuesday": "вторник",
    "wednesday": "среда", "thursday": "четверг", "friday": "пятница", "saturday": "суббота",
    "sunday": "воскресенье", "day": "день", "days": "дни", "week": "неделя", "month": "месяц", "long": "долго",
    "duration": "длительность", "take": "", "takes": "",
    # place and contacts
    "address": "адрес", "located": "находитесь", "location": "филиал", "locations": "филиалы", "branch": "филиал", "branches": "филиалы",
    "parking": "парковка", "park": "припарковаться", "entrance": "вход", "floor": "этаж", "near": "рядом",
    "phone": "телефон", "number": "номер", "contact": "контакты", "contacts": "контакты", "call": "позвонить",
    "whatsapp": "whatsapp", "instagram": "instagram", "website": "сайт", "directions": "как добраться",
    # booking
    "book": "записаться", "booking": "запись", "appointment": "запись", "appointments": "запись",
    "reserve": "записаться", "reservation": "запись", "cancel": "отменить", "cancellation": "отмена",
    "reschedule": "перенести", "postpone": "перенести", "late": "опоздать", "available": "свободно",
    "slot": "время", "visit": "посещение", "come": "прийти", "queue": "очередь", "wait": "ждать",
    # people
    "kids": "дети", "kid": "ребенок", "children": "дети", "child": "ребенок", "baby": "ребенок",
    "son": "сын", "daughter": "дочь", "teenager": "подросток", "teens": "подростки", "adult": "взрослый",
    "adults": "взрослые", "age": "возраст", "years": "лет", "year": "год", "men": "мужской", "man": "мужской",
    "male": "мужской", "women": "женский", "woman": "женский", "female": "женский", "master": "мастер",
    "stylist": "мастер", "specialist": "специалист", "doctor": "врач", "dentist": "стоматолог",
    "trainer": "тренер", "coach": "тренер", "teacher": "педагог", "instructor": "инструктор",
    "manager": "менеджер", "administrator": "администратор", "admin": "администратор", "person": "человек",
    "group": "группа", "groups": "группы", "individual": "индивидуально", "private": "индивидуально",
    # services: beauty
    "manicure": "маникюр", "pedicure": "педикюр", "nails": "ногти", "nail": "ногти", "gel": "гель",
    "polish": "покрытие", "coating": "покрытие", "classic": "классический", "haircut": "стрижка", "haircuts": "стрижка", "cut": "стрижка",
    "hair": "волосы", "coloring": "окрашивание", "colouring": "окрашивание", "color": "окрашивание",
    "colour": "окрашивание", "dye": "окрашивание", "highlights": "мелирование", "styling": "укладка",
    "blowout": "укладка", "perm": "завивка", "keratin": "кератин", "lash": "ресницы", "lashes": "ресницы",
    "eyelash": "ресницы", "eyelashes": "ресницы", "brow": "брови", "brows": "брови", "eyebrow": "брови",
    "eyebrows": "брови", "lamination": "ламинирование", "extension": "наращивание", "extensions": "наращивание",
    "makeup": "макияж", "waxing": "депиляция", "wax": "воск", "epilation": "эпиляция", "laser": "лазер",
    "depilation": "депиляция", "sugaring": "шугаринг", "massage": "массаж", "spa": "спа", "facial": "чистка лица",
    "peeling": "пилинг", "peel": "пилинг", "beard": "борода", "shave": "бритье", "shaving": "бритье",
    "removal": "снятие", "correction": "коррекция", "design": "дизайн", "cosmetologist": "косметолог",
    # services: clinics
    "consultation": "консультация", "consult": "консультация", "checkup": "осмотр", "examination": "осмотр",
    "exam": "осмотр", "treatment": "лечение", "tooth": "зуб", "teeth": "зубы", "cleaning": "чистка",
    "whitening": "отбеливание", "filling": "пломба", "implant": "имплант", "implants": "импланты",
    "braces": "брекеты", "extraction": "удаление", "xray": "рентген", "x-ray": "рентген", "ultrasound": "узи",
    "analysis": "анализ", "vaccination": "вакцинация", "vaccine": "прививка",
    "anesthesia": "анестезия", "pain": "боль", "painful": "больно", "hurt": "больно", "insurance": "страховка",
    # services: studios, schools, gyms
    "lesson": "занятие", "lessons": "занятия", "class": "занятие", "classes": "занятия", "session": "сеанс",
    "sessions": "сеансы", "training": "тренировка", "workout": "тренировка", "trial": "пробное",
    "course": "курс", "courses": "курсы", "dance": "танцы", "dancing": "танцы", "yoga": "йога",
    "pilates": "пилатес", "swimming": "плавание", "pool": "бассейн", "gym": "зал", "fitness": "фитнес",
    "boxing": "бокс", "stretching": "растяжка", "ballet": "балет", "choreography": "хореография",
    "gymnastics": "гимнастика", "acrobatics": "акробатика", "vocals": "вокал", "vocal": "вокал", "singing": "вокал",
    "piano": "фортепиано", "guitar": "гитара", "chess": "шахматы", "karate": "карате",
    "wrestling": "борьба", "music": "музыка", "drawing": "рисование", "english": "английский",
    "uniform": "форма", "equipment": "инвентарь", "locker": "шкафчик", "shower": "душ", "towel": "полотенце",
    "freeze": "заморозка", "freezing": "заморозка",
    # services: car services
    "car": "машина", "cars": "машины", "wash": "мойка", "washing": "мойка", "polishing": "полировка",
    "tinting": "тонировка", "tint": "тонировка", "detailing": "детейлинг", "ceramic": "керамика",
    "film": "пленка", "interior": "салон", "engine": "двигатель", "tire": "шины", "tires": "шины",
    "tyre": "шины", "tyres": "шины", "oil": "масло", "repair": "ремонт", "diagnostics": "диагностика",
    "sedan": "седан", "suv": "внедорожник", "crossover": "кроссовер",
    # general
    "salon": "салон", "studio": "студия", "clinic": "клиника", "center": "центр", "centre": "центр",
    "downtown": "центр", "full": "полный", "complete": "полный", "monthly": "месяц", "weekly": "неделя",
    "service": "услуга", "services": "услуги", "procedure": "процедура", "new": "новый", "first": "первый",
    "again": "снова", "same": "тот же", "other": "другой", "more": "больше", "less": "меньше",
    # included, money, documents
    "included": "входит", "include": "входит", "includes": "входит", "including": "включая", "extra": "доп",
    "additional": "дополнительно", "dollar": "доллары", "dollars": "доллары", "usd": "доллары", "euro": "евро",
    "euros": "евро", "currency": "валюта", "tenge": "тенге", "rubles": "рубли", "money": "деньги",
    "invoice": "счет", "receipt": "чек", "contract": "договор", "documents": "документы", "passport": "паспорт",
    "tax": "налог", "vat": "ндс", "kaspi": "каспи",
    # stays and guests
    "room": "номер", "rooms": "номера", "bed": "кровать", "beds": "кровати", "night": "ночь", "nights": "ночей",
    "stay": "проживание", "guest": "гость", "guests": "гости", "visitors": "гости", "hotel": "отель",
    "hostel": "хостел", "apartment": "квартира", "breakfast": "завтрак", "lunch": "обед", "dinner": "ужин",
    "meal": "питание", "meals": "питание", "food": "еда", "kitchen": "кухня", "fridge": "холодильник",
    "refrigerator": "холодильник", "laundry": "стирка", "wifi": "вайфай", "wi-fi": "вайфай", "internet": "интернет",
    "smoking": "курить", "smoke": "курить", "elevator": "лифт", "lift": "лифт", "luggage": "багаж",
    "baggage": "багаж", "storage": "хранение", "sauna": "сауна", "balcony": "балкон", "view": "вид",
    "quiet": "тихо", "noise": "шум", "cleaning service": "уборка", "housekeeping": "уборка",
    # getting there
    "airport": "аэропорт", "station": "вокзал", "railway": "вокзал", "metro": "метро", "subway": "метро",
    "bus": "автобус", "taxi": "такси", "shuttle": "трансфер", "mountain": "горы", "mountains": "горы",
    "building": "корпус", "buildings": "корпуса", "street": "улица", "city": "город", "district": "район",
    "far": "далеко", "nearby": "рядом", "bring": "взять", "walk": "пешком", "pickup": "забрать", "delivery": "доставка",
    # animals and family
    "pet": "животные", "pets": "животные", "animal": "животные", "animals": "животные", "dog": "собака",
    "dogs": "собаки", "cat": "кошка", "cats": "кошки", "puppy": "собака", "wheelchair": "коляска",
    "stroller": "коляска", "pregnant": "беременность", "pregnancy": "беременность", "student": "студент",
    "students": "студенты", "pensioner": "пенсионер", "pensioners": "пенсионеры", "senior": "пенсионер",
    "family": "семейный", "couple": "двоих", "friends": "друзья",
    # food made to order and shops (bakeries, cafés, florists, shops with delivery)
    "cake": "торт", "cakes": "торты", "dessert": "десерт", "desserts": "десерты", "cupcake": "капкейк",
    "cupcakes": "капкейки", "pastry": "выпечка", "pastries": "выпечка", "bakery": "кондитерская", "box": "коробка",
    "boxes": "коробки", "deliver": "доставка", "delivered": "доставка", "courier": "курьер", "sugar": "сахар",
    "shop": "магазин", "store": "магазин", "mall": "трц", "order": "заказ", "orders": "заказы",
    # booking words
    "cancelled": "отменить", "canceled": "отменить", "refundable": "возврат", "minimum": "минимум",
    "maximum": "максимум", "advance": "заранее", "early": "рано", "later": "позже", "guarantee": "гарантия",
    "warranty": "гарантия", "waiting": "ожидание", "wait time": "ожидание", "barber": "барбер",
    "barbershop": "барбершоп", "dental": "стоматология",
    # clothes, textiles and home things (cleaners, ateliers, laundries, shops)
    "clothes": "одежда", "clothing": "одежда", "garment": "изделие", "garments": "изделия", "dress": "платье",
    "dresses": "платья", "wedding": "свадебное", "shirt": "рубашка", "blouse": "блузка", "suit": "костюм",
    "jacket": "куртка", "coat": "пальто", "jeans": "джинсы", "trousers": "брюки", "pants": "брюки", "skirt": "юбка",
    "sweater": "свитер", "hoodie": "худи", "tie": "галстук", "fur": "мех", "leather": "кожа",
    "suede": "замша", "wool": "шерсть", "woolen": "шерстяной", "silk": "шелк", "cotton": "хлопок", "shoes": "обувь",
    "shoe": "обувь", "boots": "сапоги", "sneakers": "кроссовки", "trainers": "кроссовки", "bag": "сумка",
    "bags": "сумки", "backpack": "рюкзак", "curtains": "шторы", "curtain": "шторы", "carpet": "ковер", "rug": "ковер",
    "blanket": "одеяло", "pillow": "подушка", "pillows": "подушки", "sofa": "диван", "couch": "диван",
    "furniture": "мебель", "mattress": "матрас", "stain": "пятно", "stains": "пятна", "zipper": "молния",
    "zippers": "молния", "zip": "молния", "button": "пуговица", "buttons": "пуговицы", "hem": "подшить",
    "shorten": "укоротить", "alteration": "подгонка", "alterations": "подгонка", "sew": "пошив", "sewing": "пошив",
    "tailor": "портной", "tailoring": "пошив", "iron": "глажка", "ironing": "глажка", "replace": "замена",
    "replacement": "замена", "clean": "чистка", "urgent": "срочно",
    "urgently": "срочно", "fast": "быстро", "ready": "готово",
    # clinics and vets
    "vet": "ветеринар", "veterinarian": "ветеринар", "veterinary": "ветеринарный", "surgery": "операция",
    "operation": "операция", "neuter": "кастрация", "neutering": "кастрация", "castration": "кастрация",
    "spay": "стерилизация", "spaying": "стерилизация", "sterilization": "стерилизация", "sterilisation": "стерилизация",
    "deworming": "дегельминтизация", "fleas": "блохи", "ticks": "клещи", "microchip": "чипирование",
    "chip": "чипирование", "grooming": "груминг", "claws": "когти", "claw": "когти", "kitten": "котенок",
    "vaccinations": "прививки", "vaccines": "прививки", "shots": "прививки", "test": "анализ", "tests": "анализы",
    "blood": "кровь", "urine": "моча", "scan": "узи", "mri": "мрт", "ct": "кт", "emergency": "срочно",
    "hospital": "стационар", "prescription": "рецепт", "medicine": "лекарство",
    "medicines": "лекарства", "pharmacy": "аптека", "sick": "болеет", "ill": "болеет",
    # gyms and studios
    "unlimited": "безлимит", "visits": "посещения", "annual": "годовой", "yearly": "годовой",
    "crossfit": "кроссфит", "cardio": "кардио", "stretch": "растяжка", "spinning": "сайклинг",
    "cycling": "сайклинг", "zumba": "зумба", "kickboxing": "кикбоксинг", "martial": "единоборства",
    # food and orders
    "coffee": "кофе", "kg": "кг", "kilo": "кг", "kilogram": "кг",
    "vegan": "веган", "gluten": "глютен", "allergy": "аллергия", "allergic": "аллергия",
    # schools and courses
    "school": "школа", "tutor": "репетитор",
    "online": "онлайн", "offline": "офлайн", "level": "уровень", "beginner": "начинающий", "beginners": "начинающие",
    "driving": "вождение",
    # events and rent
    "rent": "аренда", "rental": "аренда", "hire": "аренда", "event": "мероприятие", "party": "праздник",
    "photo": "фото", "photos": "фото", "photographer": "фотограф", "video": "видео", "hall": "зал",
    # shops, businesses, payment brands
    "delivers": "доставка", "halal": "халал", "business": "бизнес", "businesses": "бизнес", "company": "компания",
    "companies": "компании", "corporate": "корпоративный", "visa": "карта", "mastercard": "карта",
    # repair of phones and computers
    "screen": "экран", "screens": "экран", "display": "дисплей", "battery": "аккумулятор", "batteries": "аккумулятор",
    "laptop": "ноутбук", "laptops": "ноутбук", "notebook": "ноутбук", "keyboard": "клавиатура", "tablet": "планшет",
    "tablets": "планшет", "charger": "зарядка", "charging": "зарядка", "fix": "ремонт", "fixing": "ремонт",
    "repairs": "ремонт", "recover": "восстановление", "recovery": "восстановление", "restore": "восстановление",
    "data": "данные",
    # eyes and optics
    "glasses": "очки", "eyeglasses": "очки", "spectacles": "очки", "sunglasses": "солнцезащитные", "lens": "линзы",
    "lenses": "линзы", "frame": "оправа", "frames": "оправа", "eye": "зрение", "eyes": "зрение",
    "vision": "зрение", "sight": "зрение", "eyesight": "зрение", "optician": "оптометрист", "optometrist": "оптометрист",
    "ophthalmologist": "офтальмолог", "oculist": "офтальмолог", "myopia": "близорукость", "astigmatism": "астигматизм",
    "progressive": "прогрессивные", "photochromic": "фотохромные", "solution": "раствор",
}

_LETTER = "a-z'"
PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"(?<![{_LETTER}]){re.escape(k)}(?![{_LETTER}])"), v)
    for k, v in sorted(_PHRASES_EN.items(), key=lambda kv: len(kv[0]), reverse=True)
]
WORDS: dict[str, str] = dict(_WORDS_EN)
_BY_STEM: dict[str, str] = {}
for _word, _ru in _WORDS_EN.items():
    _BY_STEM.setdefault(_EN.stemWord(_word), _ru)
# Glossary content words (not function words): they vote for English like translit's common words.
_GLOSSARY_WORDS = frozenset(k for k, v in _WORDS_EN.items() if v and len(k) >= 3)
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?![a-z])")
_LATIN_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]+")


@lru_cache(maxsize=50_000)
def lookup(word: str) -> str | None:
    """The Russian for a lower-case English word ("" = a function word), or None when unknown."""
    if word in WORDS:
        return WORDS[word]
    base = word[:-2] if word.endswith("'s") else word
    if base in WORDS:
        return WORDS[base]
    if len(base) >= 4:
        return _BY_STEM.get(_EN.stemWord(base))
    return None


def _vote(word: str) -> str:
    if word in _GLOSSARY_WORDS or (len(word) >= 4 and lookup(word)):
        return "" if word in translit._AMBIGUOUS else "en"
    return translit._vote(word)


def looks_english(lowered: str) -> bool:
    """Mostly Latin words (a Russian text with a Latin brand name is not), more of them English
    than Latin-script Russian, and at least one that is clearly English."""
    latin = [m.group(0).strip("'`’") for m in translit._latin_words(lowered)]
    if not latin:
        return False
    cyrillic = len(_CYRILLIC.findall(lowered))
    if cyrillic * 3 > len(latin):
        return False
    votes = [_vote(w) for w in latin]
    en, ru = votes.count("en"), votes.count("ru")
    return en >= 1 and en > ru


def _clock(match: re.Match[str]) -> str:
    hour, minutes, half = int(match.group(1)), match.group(2) or "00", match.group(3)[0]
    if hour > 12:
        return match.group(0)
    if half == "p" and hour < 12:
        hour += 12
    elif half == "a" and hour == 12:
        hour = 0
    return f"{hour}:{minutes}"


def to_russian(folded: str, lowered: str | None = None) -> str:
    """`folded` (normalised text) with English question phrases and glossary words replaced by
    Russian ones when the text (`lowered`) is English; otherwise unchanged."""
    if not re.search(r"[a-z]", folded) or not looks_english(lowered if lowered is not None else folded):
        return folded
    text = folded.replace("’", "'").replace("`", "'")
    for pattern, full in _CONTRACTIONS:
        text = re.sub(pattern, full, text)
    text = _CLOCK.sub(_clock, text)
    for pattern, russian in PHRASES:
        text = pattern.sub(russian, text)

    skipped = [m.span() for m in translit._SKIP.finditer(text)]  # handles, e-mails, web addresses

    def word(match: re.Match[str]) -> str:
        if any(a <= match.start() < b for a, b in skipped):
            return match.group(0)
        found = lookup(match.group(0))
        return match.group(0) if found is None else found

    text = _LATIN_WORD.sub(word, text)
    if not re.search(r"[a-zа-я0-9]", text):
        return folded  # "ok", "thanks": nothing to map; the matcher knows them as English filler
    return re.sub(r"  +", " ", re.sub(r" +([?!.,])", r"\1", text)).strip()
