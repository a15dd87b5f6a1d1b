"""Tests for mammo_cv.core.labels: one label vocabulary for the classifier, the tables and the review images."""

from __future__ import annotations

from mammo_cv import classify, review
from mammo_cv.classify import classifier
from mammo_cv.core.labels import LABELS
from mammo_cv.review import gallery, overlay


def test_labels_in_precedence_order():
    assert LABELS == ("secretory", "vascular", "macro", "suspicious_cluster", "punctate", "other")


def test_every_stage_uses_the_one_vocabulary():
    for module in (classify, classifier, review, overlay, gallery):
        assert module.LABELS is LABELS, module.__name__


def test_every_label_has_one_colour():
    assert list(overlay.LABEL_COLOURS) == list(LABELS)
    assert len(set(overlay.LABEL_COLOURS.values())) == len(LABELS)
