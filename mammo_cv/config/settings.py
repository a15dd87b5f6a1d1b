"""One ``Config`` that bundles the settings of every stage.

Each stage owns its own frozen config dataclass, with its thresholds in mm and their sources;
``Config`` only gathers them so that one object can be passed through ``analyze`` and recorded
in every output, and checks the settings of different stages that must agree
(:mod:`mammo_cv.config.couplings`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields

from mammo_cv.anatomy.landmarks import AnatomyConfig
from mammo_cv.classify.rules import Rules
from mammo_cv.config.couplings import check_couplings
from mammo_cv.describe.calcifications import FeatureConfig
from mammo_cv.describe.grouping import ClusterConfig
from mammo_cv.describe.groups import GroupConfig
from mammo_cv.describe.vascular import VascularConfig
from mammo_cv.detection.detect import DetectionConfig

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
    rules : Rules
        The classifier's rule set; defaults to ``Rules()``.

    Raises
    ------
    SettingsError
        When settings that must agree do not (:data:`mammo_cv.config.couplings.COUPLINGS`).
    """

    anatomy: AnatomyConfig = field(default_factory=AnatomyConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    clusters: ClusterConfig = field(default_factory=ClusterConfig)
    groups: GroupConfig = field(default_factory=GroupConfig)
    vascular: VascularConfig = field(default_factory=VascularConfig)
    rules: Rules = field(default_factory=Rules)

    def __post_init__(self) -> None:
        check_couplings({f.name: asdict(getattr(self, f.name)) for f in fields(self) if f.name != "rules"})

    def to_dict(self) -> dict:
        """Every setting as plain JSON-serialisable values; ``rules`` also carries its
        ``digest`` (the rule-set hash) and ``source`` path."""
        stages = {f.name: asdict(getattr(self, f.name)) for f in fields(self) if f.name != "rules"}
        return {**stages, "rules": self.rules.to_dict()}

    def digest(self) -> str:
        """SHA-256 (hex, first 16 digits) of the settings, recorded in every output. The rules
        count by content (their digest), not by the path they were read from."""
        settings = self.to_dict()
        settings["rules"] = {key: value for key, value in settings["rules"].items() if key != "source"}
        text = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
