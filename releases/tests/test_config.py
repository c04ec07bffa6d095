"""The default bundle, deep-merging release overrides over it, and validation of overrides."""

from __future__ import annotations

import pytest

from conversations.answering import defaults as answering
from conversations.answering.gate import RULES
from imperium.core.exceptions import ApplicationError
from releases.config import deep_merge, effective_bundle, freeze, thaw, validate_overrides
from releases.defaults import DEFAULT_BUNDLE


def test_the_default_bundle_carries_the_brains_own_settings_and_nothing_unread():
    assert set(DEFAULT_BUNDLE) == {"answering", "eval", "flags"}
    assert DEFAULT_BUNDLE["answering"] == answering.DEFAULTS
    assert DEFAULT_BUNDLE["answering"] is not answering.DEFAULTS  # a copy: merging never mutates the brain's defaults
    assert set(answering.RULE_NAMES) == set(RULES)  # the validator knows exactly the rules the gate runs
    assert validate_overrides(DEFAULT_BUNDLE) == {}
    for name, template in DEFAULT_BUNDLE["answering"]["templates"].items():
        allowed = answering.TEMPLATE_PLACEHOLDERS[name]
        if allowed is not None:
            template.format(**{key: "x" for key in allowed})


def test_it_deep_merges_overrides_without_touching_the_defaults():
    merged = effective_bundle({"answering": {"thresholds": {"min_confidence": 0.7}}, "flags": {"new_flag": "on"}})
    assert merged["answering"]["thresholds"]["min_confidence"] == 0.7
    assert merged["answering"]["thresholds"]["ambiguity_ratio"] == answering.DEFAULTS["thresholds"]["ambiguity_ratio"]
    assert merged["answering"]["rules"] == answering.DEFAULTS["rules"]
    assert merged["flags"] == {"new_flag": "on"}
    assert DEFAULT_BUNDLE["answering"]["thresholds"]["min_confidence"] == 0.4  # unchanged
    assert deep_merge({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}  # lists are replaced, not appended


def test_frozen_config_cannot_be_mutated_and_thaws_to_json():
    frozen = freeze(effective_bundle())
    with pytest.raises(TypeError):
        frozen["answering"]["thresholds"]["min_confidence"] = 0.1  # type: ignore[index]
    assert thaw(frozen) == effective_bundle()


WITHOUT_GROUNDING = [r for r in answering.DEFAULTS["rules"] if r != "grounding"]


@pytest.mark.parametrize(
    ("overrides", "section", "fragment"),
    [
        ({"answering": {"thresholds": {"min_confidnce": 0.5}}}, "answering", "thresholds.min_confidnce: unknown"),
        ({"answering": {"thresholds": {"min_confidence": 1.5}}}, "answering", "between 0 and 1"),
        ({"answering": {"thresholds": {"max_items": 0}}}, "answering", "at least 1"),
        ({"answering": {"thresholds": {"max_items": 2.5}}}, "answering", "must be an integer"),
        ({"answering": {"thresholds": {"candidates": True}}}, "answering", "must be a number"),
        ({"answering": {"rules": WITHOUT_GROUNDING}}, "answering", "must keep ['grounding']"),
        ({"answering": {"rules": ["injection", "telepathy"]}}, "answering", "unknown ['telepathy']"),
        ({"answering": {"rules": "injection"}}, "answering", "list of rule names"),
        ({"answering": {"templates": {"llm_user": "Ответь: {question}"}}}, "answering", "unknown placeholders ['question']"),
        ({"answering": {"templates": {"llm_system": "  "}}}, "answering", "non-empty"),
        ({"answering": {"templates": {"llm_snippet": "[{id] {answer}"}}}, "answering", "not a valid template"),
        ({"answering": {"prompts": {}}}, "answering", "unknown key 'prompts'"),
        ({"eval": {"min_accuracy": 2}}, "eval", "between 0 and 1"),
        ({"eval": {"min_acuracy": 0.5}}, "eval", "unknown key 'min_acuracy'"),
        ({"flags": {"x": {"nested": True}}}, "flags", "true/false, a number or text"),
        ({"gate": {"min_confidence": 0.5}}, "bundle", "unknown section 'gate'"),
        ({"answering": ["min_confidence"]}, "answering", "JSON object"),
    ],
)
def test_it_refuses_bad_overrides_naming_the_problem(overrides, section, fragment):
    problems = validate_overrides(overrides)
    assert any(fragment in problem for problem in problems[section]), problems


def test_literal_templates_may_contain_braces_and_join_may_be_whitespace():
    assert validate_overrides({"answering": {"templates": {"join": "\n", "llm_verify_system": 'JSON: {"ok": true}'}}}) == {}


def test_release_services_refuse_a_bad_bundle_with_every_problem(db, make_release):
    with pytest.raises(ApplicationError) as excinfo:
        make_release("1.0.0", answering={"thresholds": {"min_confidence": "high", "bogus": 1}})
    assert "min_confidence" in excinfo.value.message and "bogus" in excinfo.value.message
    assert set(excinfo.value.extra["fields"]) == {"answering"}
