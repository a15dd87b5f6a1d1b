"""The content tree of the Mammography CAD SR: image library, findings and algorithm summaries (PS3.16 TID 4000).

Positions on the image are SCOORD image coordinates (PS3.3 C.18.6.1.2): x = column, y = row, with
(0, 0) the top-left corner of the top-left pixel, so the centre of stored pixel (row, col) is
(col + 0.5, row + 0.5). Every SCOORD points by reference to the one IMAGE item of the Image Library.

The items are plain pydicom Datasets built element by element: highdicom's content items validate
each code and cost about 10 times more, which a full-field image with hundreds of findings cannot
afford. Items that are the same for every finding (rendering intents, algorithm identification,
calcification types, the image reference) are built once per document by :class:`ItemFactory`
and shared.

Writing, not building, is what costs: pydicom encodes a dataset element by element and runs its
ambiguous-VR pass again at every nesting level. So every item is marked as already in the
document's encoding (Explicit VR Little Endian, default character set; every element it holds has
an explicit, unambiguous VR, so the mark is true), and each one-item Code Sequence is encoded
once and shared as a raw element, which pydicom writes as the bytes it holds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_sequence_item
from pydicom.sequence import Sequence as PydicomSequence
from pydicom.sr.coding import Code

from mammo_cv.pacs import codes as c
from mammo_cv.pacs.source import patient_orientation

CONTAINS, CONCEPT_MOD, PROPERTIES = "CONTAINS", "HAS CONCEPT MOD", "HAS PROPERTIES"
ACQ_CONTEXT, INFERRED, SELECTED = "HAS ACQ CONTEXT", "INFERRED FROM", "SELECTED FROM"


@dataclass(frozen=True)
class Finding:
    """One calcification or cluster, ready to be written.

    Attributes
    ----------
    kind : Code
        CID 6014 value: ``codes.INDIVIDUAL_CALCIFICATION`` or ``codes.CALCIFICATION_CLUSTER``.
    label, reason : str
        Our label and reason.
    types : tuple of Code
        CID 6010 calcification types (may be empty).
    certainty_pct : float
        Certainty of Finding, 0-100.
    center_xy : (2,) ndarray of float
        SCOORD centre (column, row) in image coordinates.
    outline_xy : (P, 2) ndarray of float or None
        Closed outline (first point repeated last), or None.
    distribution : Code or None
        CID 6012 value (clusters).
    n_calcs : int or None
        Number of member calcifications (clusters).
    """

    kind: Code
    label: str
    reason: str
    types: tuple[Code, ...]
    certainty_pct: float
    center_xy: np.ndarray
    outline_xy: np.ndarray | None = None
    distribution: Code | None = None
    n_calcs: int | None = None


def new_item() -> Dataset:
    """An empty dataset marked as encoded Explicit VR Little Endian in the default character set.

    Only for datasets whose elements all get an explicit VR that is not ambiguous (PS3.5 6.2):
    pydicom then writes them as they are, without its ambiguous-VR pass.
    """
    ds = Dataset()
    ds.set_original_encoding(False, True, default_encoding)
    return ds


def code_dataset(code: Code) -> Dataset:
    """A Code Sequence item (Code Value, Coding Scheme Designator, Code Meaning)."""
    ds = new_item()
    ds.add_new(0x00080100, "SH", code.value)
    ds.add_new(0x00080102, "SH", code.scheme_designator)
    ds.add_new(0x00080104, "LO", code.meaning)
    return ds


def _explicit_little_endian_buffer() -> DicomBytesIO:
    """An empty in-memory file that pydicom's writers encode Explicit VR Little Endian."""
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    return buffer


@functools.cache
def code_sequence(tag: int, code: Code) -> RawDataElement:
    """The Code Sequence element ``tag`` holding ``code`` as its one item, encoded Explicit VR Little
    Endian with defined lengths (immutable, so one is shared by every item and document)."""
    buffer = _explicit_little_endian_buffer()
    sequence = DataElement(tag, "SQ", PydicomSequence([code_dataset(code)]))
    write_data_element(buffer, sequence, [default_encoding])
    return raw_sequence(tag, buffer.getvalue()[12:])  # after the tag (4 bytes), VR (2), reserved (2), length (4)


def raw_sequence(tag: int, value: bytes) -> RawDataElement:
    """The sequence element ``tag`` whose value is the encoded items ``value`` (Explicit VR Little Endian)."""
    return RawDataElement(tag, "SQ", len(value), value, 0, False, True)


@dataclass
class ItemFactory:
    """Builds content items for one document, sharing the coded ones.

    Attributes
    ----------
    version, config_digest : str
        Algorithm Version and the digest written as Algorithm Parameters (TID 4019).
    image_path : tuple of int
        Ordinal path from the root to the Image Library's IMAGE item, for by-reference relationships.
    encodings : str or list of str
        Python codecs of the document's Specific Character Set, for the text values.
    """

    version: str
    config_digest: str
    image_path: tuple[int, ...]
    encodings: str | list[str] = default_encoding
    _shared: dict[tuple, Dataset | list[Dataset]] = field(default_factory=dict, repr=False)
    # id of each shared item (``_shared`` keeps them alive, so ids stay theirs) -> its bytes
    _encoded: dict[int, bytes] = field(default_factory=dict, repr=False)

    def set_children(self, item: Dataset, children: Sequence[Dataset]) -> None:
        """Set the Content Sequence of ``item``, encoded now; none when there are no children (an
        empty one is invalid). Also for highdicom items, whose setter accepts named items only."""
        if children:
            item[0x0040A730] = raw_sequence(0x0040A730, b"".join(map(self._item_bytes, children)))

    def _item_bytes(self, child: Dataset) -> bytes:
        """``child`` encoded as a sequence item; a shared item's bytes were kept when it was shared."""
        encoded = self._encoded.get(id(child))
        if encoded is None:
            buffer = _explicit_little_endian_buffer()
            write_sequence_item(buffer, child, self.encodings)
            encoded = buffer.getvalue()
        return encoded

    def _share(self, key: tuple, items: Dataset | list[Dataset]) -> None:
        """Keep ``items`` (complete: shared items get no children later) as the shared value of
        ``key``, and their bytes."""
        self._shared[key] = items
        for item in items if isinstance(items, list) else [items]:
            self._encoded[id(item)] = self._item_bytes(item)

    def item(self, relationship: str, value_type: str, name: Code) -> Dataset:
        """A new content item with its relationship, value type and concept name."""
        ds = new_item()
        ds.add_new(0x0040A010, "CS", relationship)
        ds.add_new(0x0040A040, "CS", value_type)
        ds[0x0040A043] = code_sequence(0x0040A043, name)
        return ds

    def text(self, relationship: str, name: Code, value: str) -> Dataset:
        ds = self.item(relationship, "TEXT", name)
        ds.add_new(0x0040A160, "UT", value)
        return ds

    def coded(self, relationship: str, name: Code, value: Code) -> Dataset:
        ds = self.item(relationship, "CODE", name)
        ds[0x0040A168] = code_sequence(0x0040A168, value)
        return ds

    def num(self, relationship: str, name: Code, value: float, unit: Code) -> Dataset:
        measured = new_item()
        measured[0x004008EA] = code_sequence(0x004008EA, unit)
        measured.add_new(0x0040A30A, "DS", f"{value:.6g}")
        ds = self.item(relationship, "NUM", name)
        ds.add_new(0x0040A300, "SQ", PydicomSequence([measured]))
        return ds

    def shared_code(self, relationship: str, name: Code, value: Code) -> Dataset:
        """A CODE item without children, built once per (relationship, name, value)."""
        key = ("code", relationship, name, value)
        if key not in self._shared:
            self._share(key, self.coded(relationship, name, value))
        return self._shared[key]  # type: ignore[return-value]

    def algorithm(self, relationship: str) -> list[Dataset]:
        """TID 4019 Algorithm Identification: name, version and the config digest as its parameters."""
        key = ("algorithm", relationship)
        if key not in self._shared:
            self._share(key, [self.text(relationship, c.ALGORITHM_NAME, "mammo_cv"),
                              self.text(relationship, c.ALGORITHM_VERSION, self.version),
                              self.text(relationship, c.ALGORITHM_PARAMETERS, f"config digest {self.config_digest}")])
        return self._shared[key]  # type: ignore[return-value]

    def image_reference(self, relationship: str) -> Dataset:
        """A by-reference relationship to the Image Library's IMAGE item."""
        key = ("reference", relationship)
        if key not in self._shared:
            ds = new_item()
            ds.add_new(0x0040A010, "CS", relationship)
            ds.add_new(0x0040DB73, "UL", list(self.image_path))
            self._share(key, ds)
        return self._shared[key]  # type: ignore[return-value]

    def scoord(self, name: Code, graphic_type: str, points_xy: np.ndarray) -> Dataset:
        """TID 4021 geometry: a SCOORD selected (by reference) from the library image."""
        ds = self.item(PROPERTIES, "SCOORD", name)
        ds.add_new(0x00700022, "FL", [float(v) for v in np.asarray(points_xy, np.float32).ravel()])
        ds.add_new(0x00700023, "CS", graphic_type)
        self.set_children(ds, [self.image_reference(SELECTED)])
        return ds


def library_entry(items: ItemFactory, source: Dataset, laterality: Code | None, view: Code | None) -> Dataset:
    """TID 4020 CAD Image Library Entry: the IMAGE item and its acquisition context."""
    image = Dataset()
    image.RelationshipType = CONTAINS
    image.ValueType = "IMAGE"
    ref = Dataset()
    ref.ReferencedSOPClassUID = source.SOPClassUID
    ref.ReferencedSOPInstanceUID = source.SOPInstanceUID
    image.ReferencedSOPSequence = [ref]
    context = [items.coded(ACQ_CONTEXT, name, value)
               for name, value in ((c.IMAGE_LATERALITY, laterality), (c.IMAGE_VIEW, view)) if value is not None]
    items.set_children(image, context + _orientation_items(items, source) + _date_items(items, source)
                       + _spacing_items(items, source))
    return image


def _orientation_items(items: ItemFactory, source: Dataset) -> list[Dataset]:
    """Patient Orientation Row and Column (TEXT), when the source has both, valid."""
    values = patient_orientation(source)
    if not values:
        return []
    return [items.text(ACQ_CONTEXT, c.PATIENT_ORIENTATION_ROW, values[0]),
            items.text(ACQ_CONTEXT, c.PATIENT_ORIENTATION_COLUMN, values[1])]


def _date_items(items: ItemFactory, source: Dataset) -> list[Dataset]:
    """Study and content date and time of the source image, those it has."""
    rows = []
    for name, keyword, value_type, tag, vr in ((c.STUDY_DATE, "StudyDate", "DATE", 0x0040A121, "DA"),
                                               (c.STUDY_TIME, "StudyTime", "TIME", 0x0040A122, "TM"),
                                               (c.CONTENT_DATE, "ContentDate", "DATE", 0x0040A121, "DA"),
                                               (c.CONTENT_TIME, "ContentTime", "TIME", 0x0040A122, "TM")):
        if source.get(keyword):
            ds = items.item(ACQ_CONTEXT, value_type, name)
            ds.add_new(tag, vr, source.data_element(keyword).value)
            rows.append(ds)
    return rows


def _spacing_items(items: ItemFactory, source: Dataset) -> list[Dataset]:
    """Horizontal and vertical pixel spacing in um, from Imager Pixel Spacing or Pixel Spacing."""
    spacing = source.get("ImagerPixelSpacing") or source.get("PixelSpacing")
    if not spacing or len(spacing) != 2:
        return []
    row_um, col_um = (float(value) * 1000.0 for value in spacing)
    return [items.num(ACQ_CONTEXT, c.HORIZONTAL_PIXEL_SPACING, col_um, c.MICROMETER),
            items.num(ACQ_CONTEXT, c.VERTICAL_PIXEL_SPACING, row_um, c.MICROMETER)]


def _finding_properties(items: ItemFactory, finding: Finding) -> list[Dataset]:
    """TID 4009 / TID 4010 rows of one finding: types, distribution, count."""
    rows = [items.shared_code(PROPERTIES, c.CALCIFICATION_TYPE, code) for code in finding.types]
    if finding.distribution is not None:
        rows.append(items.shared_code(PROPERTIES, c.CALCIFICATION_DISTRIBUTION, finding.distribution))
    if finding.n_calcs is not None:
        rows.append(items.num(PROPERTIES, c.NUMBER_OF_CALCIFICATIONS, finding.n_calcs, c.NO_UNITS))
    return rows


def single_image_finding(items: ItemFactory, finding: Finding) -> Dataset:
    """TID 4006 Single Image Finding with its TID 4009 or TID 4010 properties and TID 4021 geometry."""
    geometry = [items.scoord(c.CENTER, "POINT", finding.center_xy)]
    if finding.outline_xy is not None:
        geometry.append(items.scoord(c.OUTLINE, "POLYLINE", finding.outline_xy))
    ds = items.coded(CONTAINS, c.SINGLE_IMAGE_FINDING, finding.kind)
    items.set_children(ds, [items.shared_code(CONCEPT_MOD, c.RENDERING_INTENT, c.rendering_intent(finding.label)),
                            *items.algorithm(CONCEPT_MOD),
                            items.num(PROPERTIES, c.CERTAINTY_OF_FINDING, round(finding.certainty_pct, 1), c.PERCENT),
                            *_finding_properties(items, finding), *geometry])
    return ds


def individual_impression(items: ItemFactory, finding: Finding) -> Dataset:
    """TID 4003 Individual Impression/Recommendation holding one finding, its reason and rendering intent."""
    ds = items.item(INFERRED, "CONTAINER", c.INDIVIDUAL_IMPRESSION)
    ds.add_new(0x0040A050, "CS", "SEPARATE")
    items.set_children(ds, [items.shared_code(CONCEPT_MOD, c.RENDERING_INTENT, c.rendering_intent(finding.label)),
                            items.text(CONTAINS, c.IMPRESSION_DESCRIPTION, f"{finding.label}: {finding.reason}"),
                            *items.algorithm(CONTAINS), single_image_finding(items, finding)])
    return ds


def detection_summaries(items: ItemFactory) -> list[Dataset]:
    """Summary of Detections (TID 4015/4017: both detections succeeded) and Summary of Analyses (not attempted)."""
    performed = []
    for detection in (c.INDIVIDUAL_CALCIFICATION, c.CALCIFICATION_CLUSTER):
        ds = items.coded(CONTAINS, c.DETECTION_PERFORMED, detection)
        items.set_children(ds, [*items.algorithm(PROPERTIES), items.image_reference(INFERRED)])
        performed.append(ds)
    successful = items.item(INFERRED, "CONTAINER", c.SUCCESSFUL_DETECTIONS)
    successful.add_new(0x0040A050, "CS", "SEPARATE")
    items.set_children(successful, performed)
    detections = items.coded(CONTAINS, c.SUMMARY_OF_DETECTIONS, c.SUCCEEDED)
    items.set_children(detections, [successful])
    return [detections, items.coded(CONTAINS, c.SUMMARY_OF_ANALYSES, c.NOT_ATTEMPTED)]


def container(items: ItemFactory, relationship: str, name: Code, children: Sequence[Dataset]) -> Dataset:
    """A CONTAINER item (continuity SEPARATE) holding ``children``."""
    ds = items.item(relationship, "CONTAINER", name)
    ds.add_new(0x0040A050, "CS", "SEPARATE")
    items.set_children(ds, children)
    return ds
