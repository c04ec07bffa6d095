from __future__ import annotations

import yaml
from django.conf import settings


def test_decisions_file_lists_every_decision_and_classifies_every_action():
    data = yaml.safe_load(settings.DECISIONS_FILE.read_text())
    assert [d["id"] for d in data["decisions"]] == [f"DEC-00{i}" for i in range(1, 8)]
    actions = data["write_risk_policy"]["actions"]
    assert actions and all(spec["risk"] in ("low", "high") for spec in actions.values())
    # The blueprint's high-risk examples must stay high.
    for name in ("kb.promote", "release.promote_stable", "messages.mass_send", "billing.change"):
        assert actions[name]["risk"] == "high", name
