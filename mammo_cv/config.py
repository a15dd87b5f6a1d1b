"""One ``Config`` that bundles the settings of every stage.

Each stage owns its own frozen config dataclass, with its thresholds in mm and their sources;
``Config`` only gathers them so that one object can be passed through ``analyze`` and recorded
in every output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from mammo_cv.anatomy import AnatomyConfig
from mammo_cv.cluster_features import GroupConfig
from mammo_cv.clusters import ClusterConfig
from mammo_cv.detect import DetectionConfig
from mammo_cv.features import FeatureConfig
from mammo_cv.vascular import VascularConfig

__all__ = ["Config"]


@dataclass(frozen=True)
class Config:
    """Settings of the whole pipeline.

    Attributes
    ----------
    anatomy : AnatomyConfig
    detection : DetectionConfig
    features : FeatureConfig
    clusters : ClusterConfig
    groups : GroupConfig
        Distribution rules of the cluster description.
    vascular : VascularConfig
    """

    anatomy: AnatomyConfig = field(default_factory=AnatomyConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    clusters: ClusterConfig = field(default_factory=ClusterConfig)
    groups: GroupConfig = field(default_factory=GroupConfig)
    vascular: VascularConfig = field(default_factory=VascularConfig)

    def to_dict(self) -> dict:
        """Every setting as plain JSON-serialisable values."""
        return asdict(self)

    def digest(self) -> str:
        """SHA-256 (hex, first 16 digits) of the settings, recorded in every output."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
