"""Classification: the rule set (``rules.toml``) and the rule classifier, which sees only tables."""

from __future__ import annotations

from mammo_cv.classify.classifier import (
    LABELS,
    Classification,
    StudyContext,
    classify,
    contexts_from_rod_counts,
    count_rod_like,
    label_tables,
)
from mammo_cv.classify.rules import (
    DEFAULT_RULES_PATH,
    MacroRule,
    PunctateRule,
    Rules,
    RulesError,
    SecretoryRule,
    SuspiciousClusterRule,
    VascularRule,
    load_rules,
)

__all__ = [
    "RulesError", "Rules", "VascularRule", "SecretoryRule", "MacroRule", "PunctateRule", "SuspiciousClusterRule",
    "load_rules", "DEFAULT_RULES_PATH", "LABELS", "StudyContext", "Classification", "classify", "label_tables",
    "count_rod_like", "contexts_from_rod_counts",
]
