"""Rules file loading and validation (mammo_cv.classify.rules)."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from mammo_cv.classify.rules import DEFAULT_RULES_PATH, RULE_SECTIONS, Rules, RulesError, load_rules
from mammo_cv.config.settings import Config


def _variant(tmp_path, old: str, new: str):
    text = DEFAULT_RULES_PATH.read_text()
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_shipped_rules_file_sets_every_key_to_its_code_default():
    raw_keys = re.findall(r"^(\w+) = ", DEFAULT_RULES_PATH.read_text(), flags=re.MULTILINE)
    assert sorted(raw_keys) == sorted(f.name for cls in RULE_SECTIONS.values() for f in fields(cls))
    shipped = load_rules(DEFAULT_RULES_PATH)
    assert shipped.values() == Rules().values() and shipped == Rules()
    assert shipped.digest == Rules().digest and re.fullmatch(r"[0-9a-f]{16}", shipped.digest)
    assert shipped.source == str(DEFAULT_RULES_PATH) and Rules().source == ""


def test_defaults_without_a_file():
    rules = load_rules()
    assert rules == Rules()
    assert rules.secretory.min_length_mm == 3.0
    assert rules.suspicious_cluster.min_fine_calcs == 5


def test_a_file_may_set_any_subset(tmp_path):
    path = tmp_path / "subset.toml"
    path.write_text("[macro]\nmin_length_mm = 1.5\n\n[suspicious_cluster]\nmin_fine_calcs = 4\n")
    rules = load_rules(path)
    assert rules.macro.min_length_mm == 1.5 and rules.suspicious_cluster.min_fine_calcs == 4
    assert rules.macro.min_width_mm == Rules().macro.min_width_mm  # the rest keep their defaults
    assert rules.secretory == Rules().secretory
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing set\n")
    assert load_rules(empty) == Rules()


def test_digest_follows_content_not_comments_or_path(tmp_path):
    same = _variant(tmp_path, "# mammo_cv calcification rules", "# a copy with another comment")
    assert load_rules(same).digest == Rules().digest
    changed = _variant(tmp_path, "min_length_mm = 3.0", "min_length_mm = 3.5")
    assert load_rules(changed).digest != Rules().digest
    assert load_rules(changed).secretory.min_length_mm == 3.5
    integer = _variant(tmp_path, "min_length_mm = 3.0", "min_length_mm = 3")
    assert load_rules(integer).digest == Rules().digest


@pytest.mark.parametrize("old, new, key, problem", [
    ("min_length_mm = 3.0", "min_length_mm = 3.0\nmin_lenght_mm = 2.0", "secretory.min_lenght_mm",
     "unknown key; did you mean 'min_length_mm'?"),
    ("min_length_mm = 3.0", "min_length_mm = -1.0", "secretory.min_length_mm", "must be in [0.5, 30] mm"),
    ("min_length_mm = 3.0", 'min_length_mm = "3"', "secretory.min_length_mm", "must be a number"),
    ("min_fine_calcs = 5", "min_fine_calcs = 4.5", "suspicious_cluster.min_fine_calcs", "must be an integer"),
    ("min_vascular_score = 0.5", "min_vascular_score = 1.5", "vascular.min_vascular_score", "must be in [0, 1]"),
    ("min_vascular_score = 0.5", "min_vascular_score = true", "vascular.min_vascular_score", "must be a number"),
    ("max_nipple_angle_deg = 30.0", "max_nipple_angle_deg = 95.0", "secretory.max_nipple_angle_deg",
     "must be in [0, 90] deg"),
    ("[punctate]", "[punctat]", "punctat", "unknown section; did you mean 'punctate'?"),
    ("max_length_mm = 12.0", "max_length_mm = 2.0", "secretory.max_length_mm", "min_length_mm"),
    ("count_weight = 0.5", "count_weight = 0.6", "suspicious_cluster.count_weight", "sum to 1"),
])
def test_invalid_files_name_the_key(tmp_path, old, new, key, problem):
    path = _variant(tmp_path, old, new)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(path) in str(info.value) and key in str(info.value)
    assert isinstance(info.value, ValueError)


def test_contradicting_rules_built_in_code_raise():
    from mammo_cv.classify.rules import SecretoryRule

    with pytest.raises(RulesError, match="secretory.max_length_mm"):
        Rules(secretory=SecretoryRule(min_length_mm=5.0, max_length_mm=4.0))


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[secretory\nmin_length_mm = 3")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(bad)
    scalar = tmp_path / "scalar.toml"
    scalar.write_text("macro = 1\n")
    with pytest.raises(RulesError, match="must be a table"):
        load_rules(scalar)


def test_config_records_the_rule_set(tmp_path):
    default = Config()
    assert default.to_dict()["rules"]["digest"] == Rules().digest
    other = Config(rules=load_rules(_variant(tmp_path, "min_length_mm = 3.0", "min_length_mm = 4.0")))
    assert other.digest() != default.digest()
    # the same content read from another path gives the same configuration digest
    copy = tmp_path / "copy.toml"
    copy.write_text(DEFAULT_RULES_PATH.read_text())
    assert Config(rules=load_rules(copy)).digest() == default.digest()
