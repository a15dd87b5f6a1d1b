"""The lazy public namespace."""

import subprocess
import sys

import pytest

import mammo_cv


@pytest.mark.parametrize("name", sorted(set(mammo_cv.__all__) - {"__version__"}))
def test_every_public_name_resolves(name):
    assert getattr(mammo_cv, name).__module__.startswith("mammo_cv")


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        mammo_cv.no_such_thing  # noqa: B018


def test_import_stays_light():
    code = ("import sys, mammo_cv; heavy = {'matplotlib', 'pandas', 'pyarrow', 'pydicom', 'cv2'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
