"""General-purpose word lists for offline retrieval and the qualifier check.

Nothing here names a tenant, a case or a service price list: these are the words any small
service business's customers use (Russian, Kazakh, English). Words are written plainly and
normalised/stemmed at import by `knowledge.text`.

- FILLER: words that carry no topic (function words, greetings, politeness, question words,
  generic verbs). A message word that is not filler must be found in the knowledge item that
  answers it, otherwise the gate refuses to answer (the qualifier check).
- SOFT: words that help ranking when an item has them but do not block an answer when it
  does not (who the service is for, vague evaluations).
- SYNONYMS: groups of words customers use interchangeably with the words businesses write.
- KAZAKH / ENGLISH: customer words mapped to the Russian words a KB is written in. A value of
  None marks a filler word of that language.
"""

from __future__ import annotations

FILLER_RU = """
а и или но да нет не ни же ли бы вот ну уж ведь там тут здесь это этот эта эти этим это то та те тот
так такой такая такие какой какая какие каком какую каких каков какое как кто что чем чего кого кому
где куда откуда когда зачем почему сколько скока скольки сколко скоко почем почём можно нужно надо
нельзя есть был была было были быть будет буду будут бывает бывают имеется имеются
я мы вы ты он она оно они меня мне мной нас нам вас вам вами тебя тебе тобой его ее её их им ему ей
свой своя свое свои своим мой моя мое мои ваш ваша ваше ваши вашем вашей наш наша наши
у в во на с со к ко по за из от до о об обо про для при без над под после перед через около
чтобы если тоже также еще ещё уже только просто очень вообще всего все всё весь вся всех всем сам сама
пожалуйста пожалуйсто плиз пж пжл плз спасибо благодарю подскажите подскажи скажите скажи расскажите
расскажи интересует интересуют интересно хотел хотела хотели хотелось хочу хотим хотите узнать уточнить
вопрос вопросик здравствуйте здрасте здравствуй здрасьте привет приветик приветствую салам салем
алло ок окей понятно ясно ага угу хорошо ладно девочки девушки девушка ребята добрый доброго доброе
делаете делает делают делать сделать сделаете сделают делаем оказываете предоставляете
стоит стоят стоить стоимость стоимости цена цены цену ценник прайс прайса расценки почем
поеду еду приеду приехать зайду заехать подъеду
сколько-то какой-нибудь что-нибудь нибудь либо то-есть типа вроде например кстати ещё-раз
раз разве неужели может могу можете сможете сможем получится подойдет подойти прийти прийду приду
будьте любезны извините простите
"""

# Greeting phrases removed before tokenising, so "добрый день" does not look like a question about a day.
GREETING_PHRASES = [
    "добрый день", "добрый вечер", "доброе утро", "доброго дня", "доброго времени суток", "хорошего дня",
    "сәлеметсіз бе", "сәлеметсіздер ме", "салеметсиз бе", "сәлем", "қайырлы күн", "қайырлы таң", "қайырлы кеш",
    "good morning", "good afternoon", "good evening",
]

SOFT_RU = """
большой большая большое хороший хорошая хорошее нормальный нормальная обычный обычная примерно приблизительно
потом сейчас-то мама маме маму мамы папа папе подруга подруге подругу подруги друг другу муж мужу жена жене
дочь дочке дочка дочери сын сыну сына ребенок ребенку ребёнок ребёнку сестра сестре бабушка бабушке
"""

# Groups of interchangeable words; each group is one concept for coverage.
SYNONYMS = [
    "опыт стаж",
    "цена стоимость стоит прайс",
    "адрес находитесь расположены расположен где-находитесь",
    "номер телефон",
    "длится длительность время долго продолжительность",
    "график режим часы работаете работает открыты",
    "скидка скидки скидочка акция",
    "бонус бонусы баллы кэшбэк",
    "копятся копить накопить начисляются начисляется",
    "бесплатно бесплатная бесплатный даром",
    "карта карты картой карточкой",
    "дети детей ребенок ребёнок детская детский",
    "мужской мужская мужчин мужчинам",
    "женский женская женщин женщинам",
    "врач доктор",
    "запись записаться записать",
    "отмена отменить",
    "перенос перенести",
    "парковка припарковаться парковаться",
    "вернуть возврат возвращается вернёте вернете",
    "предоплата аванс задаток",
    "инструменты инструмент",
    "окрашивание покраска красить покрасить",
    "выезд выездной выехать",
]

# Kazakh customer words (normalised to Russian letters by `knowledge.text`) → Russian words.
KAZAKH = {
    "қанша": None, "неше": None, "нешеге": None, "дейін": None, "бар": None, "ма": None, "ме": None, "ба": None,
    "бе": None, "па": None, "пе": None, "қандай": None, "қалай": None, "қайда": "адрес", "қашан": "когда",
    "тұрады": "стоит", "бағасы": "цена", "баға": "цена", "құны": "стоимость",
    "жұмыс": "работает", "істейді": None, "істейсіз": None, "істейсіздер": None, "жасайсыз": None, "жасайсыздар": None,
    "мекенжай": "адрес", "мекенжайы": "адрес", "телефон": "телефон", "нөмір": "номер",
    "жексенбі": "воскресенье", "сенбі": "суббота", "дүйсенбі": "понедельник", "сейсенбі": "вторник",
    "сәрсенбі": "среда", "бейсенбі": "четверг", "жұма": "пятница", "демалыс": "выходной", "мереке": "праздник",
    "жеңілдік": "скидка", "жеңілдігі": "скидка", "туған": "рождения", "күн": "день", "күні": "день",
    "күнге": "день", "уақыт": "время", "сағат": "час", "ертең": "завтра", "бүгін": "сегодня",
    "жазылғым": "записаться", "жазылу": "записаться", "жазыңыз": "запишите", "келеді": None, "келед": None,
    "маған": None, "сіз": None, "сіздер": None, "сіздің": None, "мен": None, "біз": None, "және": None,
    "шаш": "волосы", "тырнақ": "ногти", "бала": "детская", "балалар": "детская", "ер": "мужская",
    "төлем": "оплата", "төлеуге": "оплата", "карта": "карта", "сертификат": "сертификат", "тегін": "бесплатно",
    "филиал": "филиал", "филиалы": "филиал",
}

# English customer words (Snowball-stemmed English at import) → Russian words; None = filler.
ENGLISH = {
    "what": None, "which": None, "who": "кто", "where": "адрес", "when": None, "how": None, "much": None,
    "many": None, "is": None, "are": None, "am": None, "be": None, "was": None, "the": None, "a": None, "an": None,
    "your": None, "you": None, "yours": None, "my": None, "me": None, "i": None, "we": None, "our": None, "do": None,
    "does": None, "did": None, "can": None, "could": None, "would": None, "will": None, "should": None, "to": None,
    "for": None, "of": None, "at": None, "in": None, "on": None, "with": None, "and": None, "or": None, "only": None,
    "it": None, "this": None, "that": None, "there": None, "any": None, "some": None, "please": None, "hi": None,
    "hello": None, "hey": None, "thanks": None, "thank": None, "have": None, "has": None, "get": None, "tell": None,
    "like": None, "want": None, "need": None, "know": None, "about": None, "from": None, "if": None, "than": None,
    "cost": "стоит", "costs": "стоит", "price": "цена", "prices": "цена", "pay": "оплата", "payment": "оплата",
    "accept": "оплата", "card": "карта", "cards": "карта", "cash": "наличные",
    "open": "работает", "opening": "работает", "hours": "работает", "hour": "час", "schedule": "график",
    "work": "работает", "close": "работает", "closing": "работает",
    "branch": "филиал", "branches": "филиал", "address": "адрес", "located": "адрес", "location": "адрес",
    "phone": "телефон", "number": "номер", "contact": "телефон",
    "discount": "скидка", "discounts": "скидка", "birthday": "рождения", "promo": "акция", "promotion": "акция",
    "gift": "сертификат", "certificate": "сертификат", "voucher": "сертификат", "bonus": "бонус",
    "parking": "парковка", "park": "парковка",
    "book": "записаться", "booking": "записаться", "appointment": "запись", "cancel": "отменить",
    "reschedule": "перенести", "prepayment": "предоплата", "deposit": "предоплата", "refund": "вернуть",
    "long": "длится", "duration": "длится", "take": None, "takes": None,
    "free": "бесплатно", "today": "сегодня", "tomorrow": "завтра", "weekend": "выходные",
    "sunday": "воскресенье", "saturday": "суббота", "monday": "понедельник", "friday": "пятница",
    "manicure": "маникюр", "pedicure": "педикюр", "nails": "ногти", "nail": "ногти", "gel": "гель",
    "polish": "лак", "classic": "классический", "haircut": "стрижка", "hair": "волосы", "coloring": "окрашивание",
    "colouring": "окрашивание", "dye": "окрашивание", "lash": "ресницы", "lashes": "ресницы", "eyelash": "ресницы",
    "eyelashes": "ресницы", "extension": "наращивание", "extensions": "наращивание", "brow": "брови",
    "brows": "брови", "eyebrows": "брови", "massage": "массаж", "makeup": "макияж", "waxing": "воск",
    "men": "мужская", "mens": "мужская", "male": "мужская", "women": "женская", "kids": "детская",
    "children": "детская", "child": "детская", "teeth": "зубы", "tooth": "зуб", "dentist": "стоматолог",
    "cleaning": "чистка", "whitening": "отбеливание", "beard": "борода", "shave": "бритье", "doctor": "врач",
    "consultation": "консультация", "visa": "visa", "mastercard": "mastercard", "english": "английском",
    "language": "языках", "languages": "языках", "wifi": "wi-fi", "sterilize": "стерилизация",
}

# Words that mark a message as asking about a price / about opening hours (after normalisation).
PRICE_CUES = [
    "сколько стоит", "сколько стоят", "скока стоит", "сколько будет", "сколько это", "цена", "цены", "ценник",
    "стоимость", "почем", "почём", "прайс", "сколько за", "сколько стоит", "how much", "price", "cost",
    "қанша тұрады", "бағасы", "құны", "skolko stoit", "сколько доплата", "доплата",
]
HOURS_CUES = [
    "до скольки", "до скольки", "во сколько", "со скольки", "с какого времени", "до какого времени",
    "часы работы", "график работы", "режим работы", "opening hours", "open until", "нешеге дейін",
    "do skolki", "во сколько открываетесь", "когда открываетесь", "когда закрываетесь",
]
