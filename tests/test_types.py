"""Enums at the border and MammoImage/Anatomy validation."""

import numpy as np
import pytest

from mammo_cv.core.types import Anatomy, ChestWallSide, Laterality, MammoImage, PresentationIntent, View
from mammo_cv.core.units import area_mm2_to_px, mm_to_px, odd_kernel_px


@pytest.mark.parametrize("text, expected", [("L", Laterality.LEFT), ("left", Laterality.LEFT),
                                            ("R ", Laterality.RIGHT), ("", Laterality.UNKNOWN),
                                            (None, Laterality.UNKNOWN)])
def test_laterality_from_tag(text, expected):
    assert Laterality.from_tag(text) is expected


def test_bad_laterality_names_value_and_tag():
    with pytest.raises(ValueError, match=r"ImageLaterality.*'B'"):
        Laterality.from_tag("B", tag="ImageLaterality")


@pytest.mark.parametrize("text, expected", [("MLO", View.MLO), ("cc", View.CC), ("XCCL", View.XCCL),
                                            ("medio-lateral oblique".replace("-", ""), View.MLO),
                                            ("", View.UNKNOWN)])
def test_view_from_tag(text, expected):
    assert View.from_tag(text) is expected


def test_bad_view_names_value():
    with pytest.raises(ValueError, match="'AXIAL'"):
        View.from_tag("AXIAL")


def test_mlo_is_oblique_cc_is_not():
    assert View.MLO.is_oblique_or_lateral and not View.CC.is_oblique_or_lateral


def _image(**kwargs):
    defaults = dict(pixels=np.zeros((4, 5), np.float32), spacing_mm=(0.1, 0.1), spacing_source="argument")
    defaults.update(kwargs)
    return MammoImage(**defaults)


def test_mammo_image_is_read_only_and_keeps_caller_array_writable():
    pixels = np.ones((4, 5), np.float32)
    image = _image(pixels=pixels, laterality="L", view="MLO", presentation_intent="FOR PROCESSING")
    assert image.laterality is Laterality.LEFT and image.view is View.MLO
    assert image.presentation_intent is PresentationIntent.FOR_PROCESSING
    with pytest.raises(ValueError):
        image.pixels[0, 0] = 2.0
    pixels[0, 0] = 3.0  # the caller's own array stays writable
    assert image.shape == (4, 5)
    assert image.pixel_area_mm2 == pytest.approx(0.01)


@pytest.mark.parametrize("kwargs, message", [
    (dict(pixels=np.zeros((2, 2, 3), np.float32)), "2-D"),
    (dict(pixels=np.zeros((2, 2), np.uint16)), "float32"),
    (dict(spacing_mm=(0.0, 0.1)), "spacing"),
    (dict(spacing_mm=(float("nan"), 0.1)), "spacing"),
])
def test_mammo_image_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _image(**kwargs)


def test_anatomy_requires_bool_masks():
    with pytest.raises(ValueError, match="breast_mask"):
        Anatomy(breast_mask=np.zeros((3, 3), np.uint8), chest_wall_side="left",
                pectoral_mask=np.zeros((3, 3), bool), pectoral_line=None, nipple_rc=(1, 1))
    anatomy = Anatomy(breast_mask=np.ones((3, 3), bool), chest_wall_side="right",
                      pectoral_mask=np.zeros((3, 3), bool), pectoral_line=None, nipple_rc=(1, 2))
    assert anatomy.chest_wall_side is ChestWallSide.RIGHT and anatomy.nipple_rc == (1.0, 2.0)


def test_unit_conversions():
    assert mm_to_px(1.0, (0.1, 0.1)) == pytest.approx(10.0)
    assert mm_to_px(1.0, (0.05, 0.2)) == pytest.approx(10.0)  # geometric mean spacing 0.1 mm
    assert odd_kernel_px(1.0, (0.1, 0.1)) == 11
    assert odd_kernel_px(1.2, (0.1, 0.1)) == 13
    assert odd_kernel_px(0.1, (0.2, 0.2)) == 3  # never below the minimum
    assert area_mm2_to_px(1.0, (0.1, 0.2)) == pytest.approx(50.0)
