"""The pipeline: ``analyze`` composes the stages; ``Result`` holds what one image gave."""

from __future__ import annotations

from mammo_cv.pipeline.analysis import analyze, reclassify
from mammo_cv.pipeline.result import Result
from mammo_cv.pipeline.study import StudyImage, label_image_tables, pair_study, study_contexts, study_image

__all__ = [
    "analyze", "reclassify", "Result", "StudyImage", "study_image", "pair_study", "study_contexts",
    "label_image_tables",
]
