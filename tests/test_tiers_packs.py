"""Tier packs load and are checked: extends, pass rules, scored criteria."""

from __future__ import annotations

import shutil

import pytest
import yaml

from smecluster.policy.pack import PACK_DIR, PackError, load_pack_file


def _write(tmp_path, name: str, data: dict):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def base_dir(tmp_path):
    """A folder holding a copy of the innovative-SME 2022 pack."""
    shutil.copy(PACK_DIR / "innovative-sme-2022.yaml", tmp_path)
    return tmp_path


def test_extends_replaces_and_marks_unverified(base_dir):
    """A pack extending another replaces a criterion and marks the carried ones UNVERIFIED."""
    path = _write(base_dir, "reform", {
        "id": "reform", "extends": "innovative-sme-2022", "inherited_unverified": True, "version": "x",
        "effective_from": "2030-01-01",
        "replace": [{"id": "I-D4", "title": "equity", "role": "direct_route", "indicator": "equity_3y",
                     "comparator": ">=", "threshold": 1000}]})
    pack = load_pack_file(path)
    assert pack.criterion("I-D4").threshold == 1000 and pack.criterion("I-D4").verified
    assert not pack.criterion("I-S2").verified


def test_extends_names_a_missing_criterion(base_dir):
    """Replacing a criterion the base does not have is an error naming the file and the id."""
    path = _write(base_dir, "bad", {"id": "bad", "extends": "innovative-sme-2022", "drop": ["I-X9"]})
    with pytest.raises(PackError, match=r"bad\.yaml.*I-X9"):
        load_pack_file(path)


def test_pass_rule_group_must_exist(base_dir):
    """A group minimum for a group no scored criterion belongs to is refused."""
    path = _write(base_dir, "groups", {"id": "groups", "extends": "innovative-sme-2022",
                                       "pass_rule": {"score_at_least": 60, "group_minimums": {"luck": 5}}})
    with pytest.raises(PackError, match="unknown score groups"):
        load_pack_file(path)


def test_scored_criterion_needs_max_points(base_dir):
    """A scored criterion without max_points is refused when the pack loads."""
    raw = yaml.safe_load((base_dir / "innovative-sme-2022.yaml").read_text(encoding="utf-8"))
    scored = next(c for c in raw["criteria"] if c.get("role") == "score")
    del scored["max_points"]
    with pytest.raises(PackError, match="needs max_points"):
        load_pack_file(_write(base_dir, "nomax", raw))
