"""The settings schema and the couplings between stages (mammo_cv.config)."""

from __future__ import annotations

import dataclasses

import pytest

from mammo_cv.config import COUPLINGS, SECTIONS, SETTINGS, Config, SettingsError
from mammo_cv.detection.detect import DetectionConfig

UNITS = {"mm", "mm2", "deg", "px", "sigma", "count", "fraction", "ratio", "score", "weight", "mm/mm", ""}


# -- the schema ---------------------------------------------------------------------------------

def test_schema_and_dataclass_fields_agree_exactly():
    for section, cls in SECTIONS.items():
        declared = [entry.key for entry in SETTINGS if entry.section == section]
        assert declared == [f.name for f in dataclasses.fields(cls)], section  # same keys, same order
    assert {entry.section for entry in SETTINGS} == set(SECTIONS)
    assert len({(entry.section, entry.key) for entry in SETTINGS}) == len(SETTINGS) == 124


@pytest.mark.parametrize("entry", SETTINGS, ids=lambda entry: f"{entry.section}.{entry.key}")
def test_every_default_has_its_type_and_lies_in_its_range(entry):
    assert entry.default == getattr(SECTIONS[entry.section](), entry.key)
    assert entry.unit in UNITS and entry.description and "\n" not in entry.description
    if entry.type in (bool, str):
        assert isinstance(entry.default, entry.type) and entry.low is None and entry.high is None
        assert entry.type is bool or entry.default in entry.choices
        return
    assert entry.low < entry.high
    values = entry.default if entry.type is tuple else (entry.default,)
    assert all(type(value) is (int if entry.type is int else float) for value in values)
    assert all(entry.low <= value <= entry.high for value in values)
    assert entry.parse(list(values) if entry.type is tuple else entry.default) == entry.default


def test_a_unit_named_in_the_key_matches_the_schema_unit():
    for entry in SETTINGS:
        for suffix, unit in (("_mm", "mm"), ("_mm2", "mm2"), ("_deg", "deg"), ("_px", "px")):
            if entry.key.endswith(suffix):
                assert entry.unit == unit, entry


# -- couplings ---------------------------------------------------------------------------------

def test_a_config_assembled_in_code_is_checked_too():
    with pytest.raises(SettingsError, match=r"^\[clusters\] min_member_confidence: must equal"):
        Config(detection=DetectionConfig(min_confidence=0.0))
    with pytest.raises(SettingsError, match=r"^\[detection\] seed_snr"):
        dataclasses.replace(Config(), detection=DetectionConfig(context_min_confidence=6.0))
    with pytest.raises(ValueError, match="one weight per tophat_diameters_mm"):
        DetectionConfig(scale_weights=(1.0, 0.5, 0.25))
    assert {(c.section, c.key) for c in COUPLINGS} == {("detection", "seed_snr"), ("clusters", "min_member_confidence"),
                                                      ("detection", "scale_weights")}
