"""Settings files (mammo_cv.config): schema, loading, couplings, the printed defaults."""

from __future__ import annotations

import dataclasses

import pytest

import mammo_cv
from mammo_cv.classify.rules import DEFAULT_RULES_PATH, Rules, load_rules
from mammo_cv.config import (
    COUPLINGS,
    SECTIONS,
    SETTINGS,
    Config,
    SettingsError,
    load_settings,
    resolve_config,
    settings_toml,
)
from mammo_cv.detection.detect import DetectionConfig
from mammo_cv.synthetic.phantoms import phantom

UNITS = {"mm", "mm2", "deg", "px", "sigma", "count", "fraction", "ratio", "score", "weight", "mm/mm", ""}


def _write(tmp_path, text: str, name: str = "settings.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the schema ---------------------------------------------------------------------------------

def test_schema_and_dataclass_fields_agree_exactly():
    for section, cls in SECTIONS.items():
        declared = [entry.key for entry in SETTINGS if entry.section == section]
        assert declared == [f.name for f in dataclasses.fields(cls)], section  # same keys, same order
    assert {entry.section for entry in SETTINGS} == set(SECTIONS)
    assert len({(entry.section, entry.key) for entry in SETTINGS}) == len(SETTINGS) == 134


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


# -- loading ------------------------------------------------------------------------------------

def test_a_subset_file_sets_those_keys_and_keeps_the_defaults(tmp_path):
    path = _write(tmp_path, "[detection]\nskin_margin_mm = 6\ntophat_diameters_mm = [0.5, 1.2, 3.0, 8.0]\n"
                            "\n[anatomy]\nnipple_reference = \"pectoral\"\n"
                            "\n[rules.secretory]\nmin_length_mm = 4.0\n")
    config = load_settings(path)
    assert config.detection.skin_margin_mm == 6.0 and isinstance(config.detection.skin_margin_mm, float)
    assert config.detection.tophat_diameters_mm == (0.5, 1.2, 3.0, 8.0)
    assert config.anatomy.nipple_reference == "pectoral"
    assert config.rules.secretory.min_length_mm == 4.0 and config.rules.source == str(path)
    expected = Config(detection=dataclasses.replace(DetectionConfig(), skin_margin_mm=6.0,
                                                    tophat_diameters_mm=(0.5, 1.2, 3.0, 8.0)),
                      anatomy=dataclasses.replace(Config().anatomy, nipple_reference="pectoral"),
                      rules=dataclasses.replace(Rules(), secretory=dataclasses.replace(Rules().secretory,
                                                                                       min_length_mm=4.0)))
    assert config == expected


def test_an_empty_file_is_the_default_config(tmp_path):
    config = load_settings(_write(tmp_path, "# nothing changed\n"))
    assert config == Config() and config.digest() == Config().digest()


@pytest.mark.parametrize("text, section, key, problem", [
    ("[detecton]\nseed_snr = 4.5\n", "detecton", "", "unknown section; did you mean 'detection'?"),
    ("[secretory]\nmin_length_mm = 3.0\n", "secretory", "", "did you mean 'rules.secretory'?"),
    ("[rules.punctat]\nmax_length_mm = 1.0\n", "rules.punctat", "", "did you mean 'rules.punctate'?"),
    ("detection = 1\n", "detection", "", "must be a table"),
    ("[detection]\nskin_margin = 5.0\n", "detection", "skin_margin", "did you mean 'skin_margin_mm'?"),
    ("[clusters]\nmin_confidence = 6.0\n", "clusters", "min_confidence", "it belongs in [detection]"),
    ("[vascular]\nmin_vascular_score = 0.5\n", "vascular", "min_vascular_score", "belongs in [rules.vascular]"),
    ("[detection]\nskin_margin_mm = 31.0\n", "detection", "skin_margin_mm", "must be in [0, 30] mm, got 31.0"),
    ("[groups]\nsegmental_max_alignment_deg = 120\n", "groups", "segmental_max_alignment_deg", "[0, 90] deg"),
    ("[detection]\nnoise_curve_bins = 0\n", "detection", "noise_curve_bins", "must be in [1, 256] count"),
    ("[detection]\nskin_margin_mm = \"5\"\n", "detection", "skin_margin_mm", "must be a number, got '5'"),
    ("[detection]\nskin_margin_mm = true\n", "detection", "skin_margin_mm", "must be a number"),
    ("[detection]\nskin_margin_mm = nan\n", "detection", "skin_margin_mm", "must be in"),
    ("[clusters]\nmin_members = 3.0\n", "clusters", "min_members", "must be an integer, got 3.0"),
    ("[detection]\nnoise_equalization = 1\n", "detection", "noise_equalization", "must be true or false"),
    ("[anatomy]\nnipple_reference = \"areola\"\n", "anatomy", "nipple_reference", "must be one of"),
    ("[vascular]\ntrack_gap_mm = [1.0, 2.0, 3.0]\n", "vascular", "track_gap_mm", "array of 2 numbers"),
    ("[vascular]\ntrack_gap_mm = [3.0, 1.0]\n", "vascular", "track_gap_mm", "min < max"),
    ("[detection]\ntophat_diameters_mm = []\n", "detection", "tophat_diameters_mm", "one or more numbers"),
    ("[detection]\ntophat_diameters_mm = [0.5, 40.0]\n", "detection", "tophat_diameters_mm",
     "each element must be in [0.1, 30] mm"),
    ("[rules.secretory]\nmin_length_mm = -1.0\n", "rules.secretory", "min_length_mm", "must be in [0.5, 30] mm"),
    ("[rules.secretory]\nmin_lenght_mm = 3.0\n", "rules.secretory", "min_lenght_mm", "did you mean"),
    ("[rules.secretory]\nmax_length_mm = 2.0\n", "rules.secretory", "max_length_mm", "min_length_mm"),
    ("[rules]\nmacro = 1\n", "rules.macro", "", "must be a table"),
])
def test_a_bad_file_names_the_file_section_and_key(tmp_path, text, section, key, problem):
    path = _write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    error = info.value
    assert (error.path, error.section, error.key) == (str(path), section, key)
    assert problem in error.problem
    assert str(error).startswith(f"{path}: [{section}]") and key in str(error)


def test_keys_of_one_stage_that_contradict_name_the_section_and_keys(tmp_path):
    path = _write(tmp_path, "[detection]\ngrow_snr = 5.0\n")
    with pytest.raises(SettingsError, match=r"\[detection\]: need 0 < grow_snr <= seed_snr") as info:
        load_settings(path)
    assert info.value.path == str(path)
    with pytest.raises(SettingsError, match=r"\[anatomy\]: skin_threshold_fraction must be <= threshold_fraction"):
        load_settings(_write(tmp_path, "[anatomy]\nskin_threshold_fraction = 0.3\n"))


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(SettingsError, match="cannot read the settings file"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[detection\nseed_snr = 4.5\n"))


# -- couplings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, section, key, problem", [
    ("[detection]\nseed_snr = 5.0\n", "detection", "seed_snr", "must equal [detection] context_min_confidence (4.5)"),
    ("[detection]\ncontext_min_confidence = 6.0\n", "detection", "seed_snr", "got 4.5"),
    ("[clusters]\nmin_member_confidence = 5.0\n", "clusters", "min_member_confidence",
     "must equal [detection] min_confidence (6.0), got 5.0"),
    ("[detection]\nmin_confidence = 7.0\n", "clusters", "min_member_confidence", "(7.0), got 6.0"),
    ("[detection]\ntophat_diameters_mm = [0.5, 1.2, 3.0]\n", "detection", "scale_weights",
     "one entry per entry of [detection] tophat_diameters_mm"),
])
def test_a_broken_coupling_fails_at_load_time(tmp_path, text, section, key, problem):
    path = _write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert (info.value.path, info.value.section, info.value.key) == (str(path), section, key)
    assert problem in info.value.problem


def test_coupled_keys_set_together_load(tmp_path):
    path = _write(tmp_path, "[detection]\nseed_snr = 5.0\ncontext_min_confidence = 5.0\nmin_confidence = 7.0\n"
                            "tophat_diameters_mm = [0.5, 1.2]\nscale_weights = [1.0, 0.5]\n"
                            "[clusters]\nmin_member_confidence = 7.0\n")
    config = load_settings(path)
    assert config.detection.seed_snr == config.detection.context_min_confidence == 5.0
    assert config.clusters.min_member_confidence == config.detection.min_confidence == 7.0


def test_a_config_assembled_in_code_is_checked_too():
    with pytest.raises(SettingsError, match=r"^\[clusters\] min_member_confidence: must equal"):
        Config(detection=DetectionConfig(min_confidence=0.0))
    with pytest.raises(SettingsError, match=r"^\[detection\] seed_snr"):
        dataclasses.replace(Config(), detection=DetectionConfig(context_min_confidence=6.0))
    with pytest.raises(ValueError, match="one weight per tophat_diameters_mm"):
        DetectionConfig(scale_weights=(1.0, 0.5, 0.25))
    assert {(c.section, c.key) for c in COUPLINGS} == {("detection", "seed_snr"), ("clusters", "min_member_confidence"),
                                                      ("detection", "scale_weights")}


# -- the printed defaults -----------------------------------------------------------------------

def test_printed_defaults_load_back_into_the_default_config(tmp_path):
    text = settings_toml()
    config = load_settings(_write(tmp_path, text))
    assert config == Config() and config.digest() == Config().digest()
    for entry in SETTINGS:  # every key, commented with its description, unit and range
        assert f"# {entry.description} (" in text and f"\n{entry.key} = " in text
    assert "# peak SNR a candidate needs (top-hat or -LoG) (sigma, 1 to 50); must equal [detection] " \
           "context_min_confidence\nseed_snr = 4.5\n" in text
    assert "(array, weight, each 0 to 2); needs one entry per entry of [detection] tophat_diameters_mm\n" in text
    assert '(one of "pectoral", "chest_wall")\nnipple_reference = "chest_wall"\n' in text


def test_a_changed_config_written_out_loads_back_equal(tmp_path):
    changed = load_settings(_write(tmp_path, "[vascular]\ntrack_gap_mm = [1.5, 2.5]\n"
                                             "[rules.macro]\nmin_length_mm = 1.5\n", "changed.toml"))
    again = load_settings(_write(tmp_path, settings_toml(changed)))
    assert again == changed and again.digest() == changed.digest() != Config().digest()


# -- resolve_config, analyze ----------------------------------------------------------------------

def test_a_rules_file_replaces_the_rule_sections_of_a_settings_file(tmp_path):
    settings = _write(tmp_path, "[detection]\nskin_margin_mm = 6.0\n[rules.secretory]\nmin_length_mm = 4.0\n")
    rules = _write(tmp_path, "[macro]\nmin_length_mm = 1.5\n", "rules.toml")
    config = resolve_config(settings, rules=rules)
    assert config.detection.skin_margin_mm == 6.0
    assert config.rules == load_rules(rules) and config.rules.source == str(rules)
    assert config.rules.secretory.min_length_mm == 3.0  # the default: the settings file's rules are replaced
    assert resolve_config(None, rules=rules).rules == load_rules(rules)
    assert resolve_config(None) == Config() and resolve_config(config) is config


def test_a_rules_only_file_is_not_a_settings_file_and_the_error_says_where_it_goes():
    with pytest.raises(SettingsError, match=r"did you mean 'rules.secretory'\? \(a rules-only file goes to --rules"):
        resolve_config(DEFAULT_RULES_PATH)


def test_analyze_takes_a_settings_file(tmp_path):
    image = phantom(spacing_mm=0.2, seed=1).image
    default = mammo_cv.analyze(image)
    assert "macro" in set(default.calc_table["label"])
    # no calcification, nor curved fragment, is that long
    path = _write(tmp_path, "[rules.macro]\nmin_length_mm = 30.0\narc_min_length_mm = 30.0\n")
    tuned = mammo_cv.analyze(image, config=path)
    assert tuned.config == load_settings(path)
    assert "macro" not in set(tuned.calc_table["label"])
    assert list(tuned.calc_table["length_mm"]) == list(default.calc_table["length_mm"])  # same measurements
    with pytest.raises(SettingsError, match="skin_margin_mm"):
        mammo_cv.analyze(image, config=_write(tmp_path, "[detection]\nskin_margin_mm = -1\n", "bad.toml"))
