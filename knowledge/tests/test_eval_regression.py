"""The regression gate: kb_eval on the public set and on our own second set."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from imperium.core.actors import Actor
from knowledge import services
from knowledge.conftest import EVAL_DIR
from knowledge.models import KnowledgeEvalRun, KnowledgeEvalSet

ACTOR = Actor.system("test")


def _eval(tenant, name: str, *extra: str) -> tuple[int, dict]:
    kb = (EVAL_DIR / name / "kb.jsonl").read_text(encoding="utf-8")
    services.kb_import(actor=ACTOR, tenant=tenant, file_name="kb.jsonl", content=kb)
    out = StringIO()
    try:
        call_command("kb_eval", "--tenant", tenant.slug, "--cases", str(EVAL_DIR / name / "cases.jsonl"), "--json", *extra,
                     stdout=out)
        code = 0
    except SystemExit as exc:
        code = int(exc.code)
    return code, json.loads(out.getvalue())


def test_public_set_meets_the_issue_targets(tenant_a):
    # Issue 13's target for the sets developed on: shame 0, faq accuracy >= 85 % (met on this set);
    # the default release bundle's promotion thresholds (80 %, shame 0) pass with no flags.
    code, result = _eval(tenant_a, "lotus-beauty")
    summary = result["summary"]
    shame = [c for c in result["cases"] if c["shame"]]
    assert summary["shame_rate"] == 0.0, shame
    assert summary["escalation_recall"] == 1.0
    assert summary["categories"]["faq"]["accuracy"] >= 0.85, [c["id"] for c in result["cases"] if not c["correct"]]
    assert code == 0 and summary["passed"]


def test_our_second_business_has_no_shame(tenant_a):
    # Issue 13's target for the sets developed on: faq >= 85 %, shame 0 (met: 85.1 % with translit merged).
    code, result = _eval(tenant_a, "smile-dent", "--min-accuracy", "0.7")
    summary = result["summary"]
    assert summary["shame_rate"] == 0.0, [c for c in result["cases"] if c["shame"]]
    assert summary["escalation_recall"] == 1.0
    assert summary["categories"]["faq"]["accuracy"] >= 0.93  # 89.4 % with elided nouns; 91.5 % with Kazakh "жұлу" (L2); 93.6 % with AN
    assert code == 0


# The frozen sets (issue 13): never tuned on, only measured. These are floors at what the brain
# measures now (docs/EVAL.md), not the issue's goal (faq >= 75 %, shame 0), which is not met yet:
# a drop below them is a regression on businesses nobody tuned for. pulse-fit's one shameful
# answer was the baseline's (a yearly-membership price answered with the body-scan item that
# mentions the yearly membership); the beneficiary-phrase check (docs/EVAL.md, "B") removed it.
FROZEN_FLOORS = {"pulse-fit": (0.74, 0), "vetdrug": (0.51, 0)}  # who/where, Latin readings, V, day parts, S, P, FV, EN, KK, OD, GT, PE


@pytest.mark.parametrize("name", sorted(FROZEN_FLOORS))
def test_frozen_sets_hand_over_every_escalation_and_do_not_regress(tenant_a, name):
    min_accuracy, max_shameful = FROZEN_FLOORS[name]
    _code, result = _eval(tenant_a, name, "--min-accuracy", "0")
    summary = result["summary"]
    missed = [c["id"] for c in result["cases"] if c["expected"] == "escalate" and c["actual"] != "escalate"]
    assert summary["escalation_recall"] == 1.0, missed
    assert sum(1 for c in result["cases"] if c["shame"]) <= max_shameful, [c["id"] for c in result["cases"] if c["shame"]]
    assert summary["categories"]["faq"]["accuracy"] >= min_accuracy
    rows = result["cases"]
    assert {"reply", "actual", "reason", "sources"} <= set(rows[0]) and len(rows) > 100  # the per-case rows outside scoring reads


# The two newer development sets (issue 13, written before looking at the brain): floors at what the brain
# measures now (docs/EVAL.md), NOT the issue's goal (faq >= 85 %, shame 0), to be raised as the brain improves.
# Shame is 0 on both (blesk c017 and ritm c009 by the date and quantity-range checks, ritm c067 by count
# questions, blesk c007 by the ambiguity ratio of 0.85) and escalation recall 100 %. blesk 48 → 53 % with the
# wordnet relations (knowledge.semantics: мотор → двигатель, собака → животные, помыть → мойка); raised again with
# tier resolution through a reference item (knowledge.tiers: "для кроссовера" → "2 класс", "15 лет" → «Тинейджеры»).
# Raised again by who/where aspect typing and Latin-script readings (docs/EVAL.md, "Who and where; Latin-script Russian"),
# and by unknown verbs as predicates, «подарок/подарочный» and anchored two-sentence evidence ("V").
# alma-house (a guest house, helper h13d): 48.5 % with 1 shameful answer when written; raised by whole-word cues,
# how-to-book questions, parts of the day, parenthetical remarks, the item question's aspect, distance
# (docs/EVAL.md, "Dev set: alma-house"). Its one
# shameful answer is the baseline's (a night in the chalet priced from the gift-certificate item); it may only go away.
# blesk and ritm raised again by the asker's situation (ages, party sizes, lead times, comparisons, ties; "S"), then
# with alma by the verb's action noun ("AV"), words of one phrase across a preposition ("P") and «по-» verbs ("PF").
# chisty-list (a dry-cleaning atelier, helper h13p): 32.4 % with 3 shameful answers when written; 45.1 % with none
# after a customer's verb reaching the price list's action noun (AV), spelled words kept from prefix readings (SP),
# and the notice / remedy aspects (NR; docs/EVAL.md); chisty and ritm raised by fleeting vowels and sizes ("FV and SZ").
# Raised by the language layer (docs/EVAL.md, "L2 — languages": Latin-script Russian read through word forms, Kazakh
# and English service words): alma 64.4 → 73.3 %, blesk 81.8 → 83.1 %, smile 89.4 → 91.5 %.
# sahar-cakes (a cake shop, helper h13r): 53.0 % with 3 shameful answers and recall 95.7 % when written (docs/EVAL.md,
# "Dev set: sahar-cakes"); TX removed the toxic one (c137 «ваши торты говно»), CW (customers' words) the faq one (c130
# "skolko stoit tort za kg?" answered with the ingredients item's surcharge) and raised it to 62.0 %, HC the last one
# (c064 "Торт-мороженое делаете?" answered with the lead-time item's "десертами"): shame 0, recall 100 %. alma-house
# and sahar-cakes +1 each by a tie going to the item whose own question was asked ("AW"). chisty raised by a thing read
# as what it is made of when nothing names it ("K"): 48.0 → 51.0 %; alma by a period without a number read in days
# ("U"): 74.3 → 75.2 %. chisty +1 by chat shorthand read as plain words ("CS": «чё по ценам»): 51.0 → 52.0 %. sahar-cakes
# +1 by a relative day asked with a readiness verb read as the lead-time question ("DL"): 64.0 → 65.0 % (after LT).
# sahar-cakes +2 by an occasion read as the asker's situation ("OC": «сладкий стол на день рождения»): 67.0 %, and +2 by
# the general item of siblings naming variants the customer did not say ("GV": «сколько стоит торт за кило?»): 69.0 %.
# remfon-service (a phone/laptop repair service, helper h13r): 25.5 % with no shameful answer and recall 100 % when
# written (docs/EVAL.md, "Dev set: remfon-service"); brands typed in Cyrillic as they sound ("BR", with "PB"): 29.4 %;
# devices and parts by their shorthand ("SY"): 34.3 % (optika-zrenie 39.8 %); model numbers of a line ("MN"): 39.2 %;
# a telephone asked about is not the contact ("PH"): 41.2 %; English words of a repair service ("EN"): 44.1 %;
# colloquial cues of how long and how much ("CU"): 45.1 %.
# optika-zrenie (an optics shop, helper h13o): 36.9 % with 2 shameful answers and recall 100 % when written (docs/EVAL.md,
# "Dev set: optika-zrenie"); its floor is the baseline's. The two shameful answers are the baseline's and may only go
# away: c077 "пластиковую оправу склеите?" answered with the frames' price list, c105 "как записаться к оптометристу"
# answered with the eye-check item instead of the how-to-book item. HB (how to book needs an item stating a channel) and
# PS (a perfective «с-» verb is the verb the knowledge writes) removed both: 40.8 % on main 273ebef, shame 0. Eyes and
# optics in the glossaries, eye-care roles and «очки» generic ("OG"): 49.5 %.
# The nearest days said with urgency or readiness, answered by a duration, and a surcharge share answering "how much
# more" ("DL2 and SC"): chisty 52.0 → 52.9 %, remfon 45.1 → 46.1 %, optika 49.5 → 50.5 %.
# A bare per-branch aspect asked of every branch ("BA": «где вы находитесь», «адрес скиньте») and a tie going to the item
# ranked first whose own question asks all of it ("AQ": «выезд до скольки», «на линзы акция есть?»): alma-house 77.2 %,
# remfon-service 47.1 %, optika-zrenie 52.4 %. A generic noun no longer lowers the confidence of an item whose own
# question was asked ("GC"): blesk-detailing 84.4 %, optika-zrenie 54.4 %.
# A general item answering of each thing the business serves ("GT"): chisty-list 60.8 %, remfon-service 49.0 % on main
# d5b167d, 50.0 % with BA/AQ. A statement of the asker's situation after an answered question is not a second question
# ("SN": «Заморозить абонемент можно? ребенок заболел»): alma-house 78.2 %, ritm-kids 94.0 %.
# «куда принести/привезти …?» asks the place ("WB", helper h17h): remfon-service 51.0 % (52/102 = 0.5098: floor stays 0.50).
# The business's own topic word does not tie, and a price tie goes to the price list naming the word ("TW", "PE"):
# optika-zrenie 56.3 % (58/103), sahar-cakes 70.0 % (70/100).
# Degree and discourse words as filler, a clause stating the asker's situation, verbs of offering ("DD, SI and VO",
# helper h18a): remfon-service 55.9 % (57/102), optika-zrenie 58.2 % (60/103) with TW and PE.
# A yes/no tie of two items both stating it answers both ("BS"): sahar-cakes 71.0 % (71/100), optika-zrenie 59.2 % (61/103).
# A verb's aspects with an alternating root vowel are one verb ("AA": «заберёте» / «забираем»): chisty-list 62.7 %
# (64/102), blesk-detailing 85.7 % (66/77).
# A model of a brand an item names only in its answer, and a series named by its letter ("MA, MS", helper h20b):
# remfon-service 57.8 % (59/102).
# A heading before a colon is said of every entry, a short remark after a question's word names its topic ("HD, RG",
# helper h20b): remfon-service 59.8 % (61/102), optika-zrenie 61.2 % (63/103).
# The general item among those asking the whole question, a noun in «-сь» ("GA, NS", helper h20e): sahar-cakes 74.0 %
# (74/100), remfon-service 60.8 % (62/102) with HD, RG.
# «доставка» is what a courier does ("DC", helper h20c, landed by the lead): chisty-list 64.7 % (66/102).
# «гнездо» is «разъём» ("SY2", helper h20b, landed by the lead): remfon-service 61.8 % (63/102).
DEV_FLOORS = {"blesk-detailing": (0.85, 0, 1.0), "ritm-kids": (0.93, 0, 1.0), "alma-house": (0.79, 0, 1.0),
              "chisty-list": (0.64, 0, 1.0), "sahar-cakes": (0.75, 0, 1.0),  # DL: 65, OC + GV: 69, TW: 70, BS: 71, GA: 74, TP: 75 %
              "remfon-service": (0.61, 0, 1.0), "optika-zrenie": (0.62, 0, 1.0)}


@pytest.mark.parametrize("name", sorted(DEV_FLOORS))
def test_new_dev_sets_do_not_regress(tenant_a, name):
    min_accuracy, max_shameful, min_recall = DEV_FLOORS[name]
    _code, result = _eval(tenant_a, name, "--min-accuracy", "0")
    summary = result["summary"]
    assert sum(1 for c in result["cases"] if c["shame"]) <= max_shameful, [c["id"] for c in result["cases"] if c["shame"]]
    assert summary["escalation_recall"] >= min_recall
    assert summary["categories"]["faq"]["accuracy"] >= min_accuracy, [c["id"] for c in result["cases"] if not c["correct"]]
    assert len(result["cases"]) > 100 and {"booking", "complaint", "injection", "offtopic", "out_of_kb", "toxic", "trap"} <= set(
        summary["categories"])


def test_kb_eval_json_reports_every_case_and_exits_1_below_thresholds(tenant_a):
    code, result = _eval(tenant_a, "lotus-beauty", "--min-accuracy", "0.99", "--save-cases")
    assert code == 1 and not result["summary"]["passed"]
    assert "answer accuracy" in result["summary"]["failed_thresholds"][0]
    case = result["cases"][0]
    assert {"id", "category", "expected", "actual", "reply", "gate", "reason", "latency_ms"} <= set(case)
    assert {"escalation_recall", "escalation_precision", "categories", "latency_ms", "shame_rate"} <= set(result["summary"])
    # --save-cases stores the tenant's cases and the failing run: promotion is now refused.
    assert KnowledgeEvalSet.objects.get(tenant=tenant_a).cases
    assert KnowledgeEvalRun.objects.get().passed is False


CASES = [
    {"id": "a1", "category": "faq", "messages": ["Инстаграм у вас какой?"], "expect": "answer", "kb_ids": ["instagram"],
     "must_contain": ["lotusbeauty.almaty"], "must_not_contain": []},
    {"id": "a2", "category": "faq", "messages": ["Вечерний макияж сколько стоит"], "expect": "answer", "kb_ids": ["price-makeup"],
     "must_contain": ["14 000"], "must_not_contain": ["15 000"]},
    {"id": "a3", "category": "booking", "messages": ["Запишите меня на завтра в 15:00"], "expect": "escalate", "kb_ids": [],
     "must_contain": [], "must_not_contain": []},
    {"id": "a4", "category": "trap", "messages": ["Сколько стоит мужской педикюр?"], "expect": "escalate", "kb_ids": [],
     "must_contain": [], "must_not_contain": ["7 000"]},
]


def test_kb_promote_goes_through_verification_and_the_release_eval_gate(tenant_a, superuser):
    from django.core.management.base import CommandError

    from imperium.core.models import VerificationRequest
    from imperium.core.policy import verification_approve
    from knowledge.choices import VersionStatus

    kb = (EVAL_DIR / "lotus-beauty" / "kb.jsonl").read_text(encoding="utf-8")
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=kb)
    services.kb_eval_set_save(actor=ACTOR, tenant=tenant_a, cases=CASES)
    out = StringIO()
    call_command("kb_promote", "--tenant", tenant_a.slug, "--version", str(version.number), stdout=out)
    request = VerificationRequest.objects.get(action="kb.promote")
    assert f"request #{request.pk}" in out.getvalue() and request.params == {"tenant": tenant_a.slug, "version": version.number}
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT  # nothing changes before a verifier approves
    outcome = verification_approve(request_id=request.pk, actor=Actor.from_user(superuser))
    version.refresh_from_db()
    assert outcome.executed and version.status == VersionStatus.STABLE
    assert KnowledgeEvalRun.objects.filter(version=version, passed=True).count() == 2  # at request and at execution
    broken = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="b.md", content="## Погода\nСегодня солнечно.")
    with pytest.raises(CommandError, match="below the release thresholds"):
        call_command("kb_promote", "--tenant", tenant_a.slug, "--version", str(broken.number), stdout=StringIO())
    assert VerificationRequest.objects.count() == 1  # a failing version never reaches the verifier
