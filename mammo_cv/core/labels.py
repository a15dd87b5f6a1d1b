"""The label vocabulary: every label a calcification or a cluster can carry."""

from __future__ import annotations

__all__ = ["LABELS"]

#: Labels in precedence order: a cluster that is not suspicious takes the most common label of
#: its members, and on a tie the earlier label wins. The overlay legend lists them in this order.
LABELS: tuple[str, ...] = ("secretory", "vascular", "macro", "suspicious_cluster", "punctate", "other")
