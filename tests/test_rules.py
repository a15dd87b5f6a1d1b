"""Rules file loading and validation (mammo_cv.classify.rules)."""

from __future__ import annotations

import re

import pytest

from mammo_cv.classify.rules import DEFAULT_RULES_PATH, RulesError, load_rules
from mammo_cv.config.settings import Config


def _variant(tmp_path, old: str, new: str):
    text = DEFAULT_RULES_PATH.read_text()
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_shipped_rules_values_and_digest():
    rules = load_rules()
    assert rules.secretory.min_length_mm == 3.0
    assert rules.suspicious_cluster.min_fine_calcs == 5
    assert rules.source == str(DEFAULT_RULES_PATH)
    assert re.fullmatch(r"[0-9a-f]{16}", rules.digest)


def test_digest_follows_content_not_comments_or_path(tmp_path):
    same = _variant(tmp_path, "# mammo_cv calcification rules", "# a copy with another comment")
    assert load_rules(same).digest == load_rules().digest
    changed = _variant(tmp_path, "min_length_mm = 3.0", "min_length_mm = 3.5")
    assert load_rules(changed).digest != load_rules().digest
    assert load_rules(changed).secretory.min_length_mm == 3.5


@pytest.mark.parametrize("old, new, key, problem", [
    ("min_length_mm = 3.0", "min_length_mm = 3.0\nmin_lenght_mm = 2.0", "secretory.min_lenght_mm", "unknown key"),
    ("min_length_mm = 3.0", "min_length_mm = -1.0", "secretory.min_length_mm", "must be in"),
    ("min_length_mm = 3.0", 'min_length_mm = "3"', "secretory.min_length_mm", "must be a number"),
    ("min_fine_calcs = 5", "min_fine_calcs = 4.5", "suspicious_cluster.min_fine_calcs", "must be an integer"),
    ("min_vascular_score = 0.5", "min_vascular_score = 1.5", "vascular.min_vascular_score", "must be in"),
    ("min_vascular_score = 0.5", "min_vascular_score = true", "vascular.min_vascular_score", "must be a number"),
    ("[punctate]", "[punctat]", "punctat", "unknown section"),
    ("max_length_mm = 12.0", "max_length_mm = 2.0", "secretory.max_length_mm", "min_length_mm"),
    ("count_weight = 0.5", "count_weight = 0.6", "suspicious_cluster.count_weight", "sum to 1"),
    ("min_score = 0.5\n", "\n", "suspicious_cluster.min_score", "missing key"),
])
def test_invalid_files_name_the_key(tmp_path, old, new, key, problem):
    path = _variant(tmp_path, old, new)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(path) in str(info.value) and key in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[secretory\nmin_length_mm = 3")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(bad)


def test_config_records_the_rule_set(tmp_path):
    default = Config()
    assert default.to_dict()["rules"]["digest"] == load_rules().digest
    other = Config(rules=load_rules(_variant(tmp_path, "min_length_mm = 3.0", "min_length_mm = 4.0")))
    assert other.digest() != default.digest()
    # the same content read from another path gives the same configuration digest
    copy = tmp_path / "copy.toml"
    copy.write_text(DEFAULT_RULES_PATH.read_text())
    assert Config(rules=load_rules(copy)).digest() == default.digest()
