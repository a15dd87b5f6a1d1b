"""Running many files: discovery, outcomes, executors, parts, the batch and the ``mammo-cv`` command."""

from __future__ import annotations

from mammo_cv.run.batch import BatchResult, analyze_batch, analyze_study, run_batch
from mammo_cv.run.discovery import InputFile, WorkItem, discover_inputs, plan_studies
from mammo_cv.run.executors import run_studies
from mammo_cv.run.outcomes import ImageOutcome, consolidate, error_outcome, image_row, ok_outcome, one_line
from mammo_cv.run.parts import OVERLAYS_DIR, PARTS_DIR, ResumeMismatchError, commit_outcome, completed_part

__all__ = [
    "InputFile", "WorkItem", "discover_inputs", "plan_studies", "ImageOutcome", "error_outcome", "image_row",
    "ok_outcome", "one_line", "consolidate", "run_studies", "PARTS_DIR", "OVERLAYS_DIR", "ResumeMismatchError",
    "commit_outcome", "completed_part", "BatchResult", "analyze_study", "run_batch", "analyze_batch",
]
