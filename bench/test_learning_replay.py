"""Issue 17's measured target, kept by the suite: one pass of the learning loop (bench/bench_learning.py) on the
public set answers at least 80 % of the held-out paraphrases, with no shameful answer anywhere in the set."""

from __future__ import annotations

import pytest

from bench.bench_learning import run


@pytest.mark.django_db
def test_one_pass_of_learning_answers_the_public_sets_held_out_paraphrases():
    from knowledge.index import reset_index

    reset_index()
    result = run("lotus-beauty", keep=5)
    # The young KB answered none of them and every teaching question became a suggestion the CEO accepted.
    assert result["held_out_answered_before"] == 0.0
    assert result["suggestions_accepted"] >= result["teaching_escalated"] - result["no_suggestion"] > 0
    assert result["held_out_answered_after"] >= 0.80, result["held_out_misses"]
    assert result["shame_after"] == 0, result["shame_cases_after"]
    assert result["faq_accuracy_after"] > result["faq_accuracy_before"]
