"""The default bundle, deep-merging release overrides over it, and validation of overrides."""

from __future__ import annotations

import pytest

from imperium.exceptions import ApplicationError
from releases.config import deep_merge, effective_bundle, freeze, thaw, validate_overrides
from releases.defaults import DEFAULT_BUNDLE, PROMPT_PLACEHOLDERS


def test_the_default_bundle_is_complete_and_its_templates_use_only_known_placeholders():
    assert set(DEFAULT_BUNDLE) == {"prompts", "gate", "eval", "replies", "flags"}
    assert validate_overrides(DEFAULT_BUNDLE) == {}
    for name, template in DEFAULT_BUNDLE["prompts"].items():
        template.format(**{key: "x" for key in PROMPT_PLACEHOLDERS[name]})
    assert all(reply.strip() for reply in DEFAULT_BUNDLE["replies"].values())


def test_it_deep_merges_overrides_without_touching_the_defaults():
    merged = effective_bundle({"gate": {"min_confidence": 0.7}, "flags": {"llm_composer": True, "new_flag": "on"}})
    assert merged["gate"]["min_confidence"] == 0.7
    assert merged["gate"]["min_retrieval_score"] == DEFAULT_BUNDLE["gate"]["min_retrieval_score"]
    assert merged["flags"]["llm_composer"] is True and merged["flags"]["new_flag"] == "on"
    assert DEFAULT_BUNDLE["gate"]["min_confidence"] == 0.55  # unchanged
    assert deep_merge({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}  # lists are replaced, not appended


def test_frozen_config_cannot_be_mutated_and_thaws_to_json():
    frozen = freeze(effective_bundle())
    with pytest.raises(TypeError):
        frozen["gate"]["min_confidence"] = 0.1  # type: ignore[index]
    assert thaw(frozen) == effective_bundle()


@pytest.mark.parametrize(
    ("overrides", "section", "fragment"),
    [
        ({"gate": {"min_confidnce": 0.5}}, "gate", "unknown key 'min_confidnce'"),
        ({"gate": {"min_confidence": 1.5}}, "gate", "between 0 and 1"),
        ({"gate": {"require_sources": 1}}, "gate", "true/false"),
        ({"gate": {"max_answer_chars": 0}}, "gate", "at least 1"),
        ({"gate": {"escalate_categories": "booking"}}, "gate", "list of strings"),
        ({"prompts": {"answer": "Ответь: {question}"}}, "prompts", "unknown placeholders ['question']"),
        ({"prompts": {"system": "  "}}, "prompts", "non-empty"),
        ({"replies": {"holding": "Спасибо {"}}, "replies", "not a valid template"),
        ({"flags": {"x": {"nested": True}}}, "flags", "true/false, a number or text"),
        ({"colors": {}}, "bundle", "unknown section 'colors'"),
        ({"gate": ["min_confidence"]}, "gate", "JSON object"),
    ],
)
def test_it_refuses_bad_overrides_naming_the_problem(overrides, section, fragment):
    problems = validate_overrides(overrides)
    assert any(fragment in problem for problem in problems[section]), problems


def test_release_services_refuse_a_bad_bundle_with_every_problem(db, make_release):
    with pytest.raises(ApplicationError) as excinfo:
        make_release("1.0.0", gate={"min_confidence": "high", "bogus": 1})
    assert "min_confidence" in excinfo.value.message and "bogus" in excinfo.value.message
    assert set(excinfo.value.extra["fields"]) == {"gate"}
