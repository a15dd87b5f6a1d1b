"""Detection: noise equalisation, top-hat filtering, thresholds and blob labelling."""

from __future__ import annotations

from mammo_cv.detection.detect import DetectionConfig, Detections, detect_calcifications
from mammo_cv.detection.noise import equalize_noise, noise_curve

__all__ = ["DetectionConfig", "Detections", "detect_calcifications", "noise_curve", "equalize_noise"]
