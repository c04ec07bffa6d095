"""The lock files agree with the human lists: every pin of requirements.txt and
requirements-dev.txt is in its lock with the same version and hashes, and the dev lock holds the
runtime lock's versions. After editing a requirements file: `make lock`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#\\]+)")
HINT = "requirements and lock disagree: run `make lock` and commit requirements.lock / requirements-dev.lock"


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def human_pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins.update(human_pins(path.parent / line.split(None, 1)[1]))
            continue
        if line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: '{line}' is not pinned with == (the lock needs exact pins)"
        pins[_name(match.group(1))] = match.group(3)
    return pins


def locked(path: Path) -> dict[str, str]:
    text = path.read_text()
    versions: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block.strip())
        if match:
            assert "--hash=sha256:" in block, f"{path.name}: {match.group(1)} has no hash"
            versions[_name(match.group(1))] = match.group(3)
    return versions


@pytest.mark.parametrize(("human", "lock"), [("requirements.txt", "requirements.lock"),
                                             ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_pin_is_locked_with_its_version(human, lock):
    pins, versions = human_pins(ROOT / human), locked(ROOT / lock)
    missing = {name: version for name, version in pins.items() if versions.get(name) != version}
    assert not missing, f"{HINT}; not in {lock} as pinned: {missing}"


def test_the_dev_lock_installs_the_runtime_lock_versions():
    runtime, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    different = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not different, f"{HINT}; runtime vs dev: {different}"


def test_development_tools_stay_out_of_the_runtime_lock():
    runtime = locked(ROOT / "requirements.lock")
    assert not {"honcho", "pytest", "ruff", "uv"} & set(runtime)
