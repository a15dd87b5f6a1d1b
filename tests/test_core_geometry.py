"""Principal axes and axis-to-line angles on hand-made point sets whose answer is known."""

import numpy as np
import pytest

from mammo_cv.core.geometry import axis_to_line_deg, principal_axis_rad, principal_moments


def _moments(rows: np.ndarray, cols: np.ndarray) -> tuple[float, float, float]:
    dr, dc = rows - rows.mean(), cols - cols.mean()
    return float(np.mean(dr * dr)), float(np.mean(dc * dc)), float(np.mean(dr * dc))


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 60.0, 90.0, -45.0])
def test_points_on_a_line_give_its_direction_and_its_variance(angle_deg):
    """Points t * (sin a, cos a): the major axis is a, its variance var(t), the minor one 0."""
    t = np.arange(-5.0, 6.0)
    a = np.radians(angle_deg)
    mu = _moments(t * np.sin(a), t * np.cos(a))
    major, minor = principal_moments(*mu)
    assert major == pytest.approx(np.var(t), rel=1e-12)
    assert abs(minor) < 1e-12
    got = np.degrees(principal_axis_rad(*mu))
    assert abs((got - angle_deg + 90.0) % 180.0 - 90.0) < 1e-9  # an axis is defined modulo 180


def test_diagonal_moments_are_their_own_eigenvalues():
    major, minor = principal_moments(np.array([4.0, 1.0]), np.array([1.0, 9.0]), np.zeros(2))
    assert major.tolist() == [4.0, 9.0] and minor.tolist() == [1.0, 1.0]
    # the larger spread along rows is the +row direction (90 deg), along cols 0 deg
    assert np.degrees(principal_axis_rad(np.array([4.0, 1.0]), np.array([1.0, 9.0]), np.zeros(2))).tolist() == \
        [90.0, 0.0]


def test_eigenvalues_keep_the_trace_and_the_determinant():
    mu_rr, mu_cc, mu_rc = 3.0, 2.0, 1.2
    major, minor = principal_moments(mu_rr, mu_cc, mu_rc)
    assert major + minor == pytest.approx(mu_rr + mu_cc)
    assert major * minor == pytest.approx(mu_rr * mu_cc - mu_rc ** 2)


@pytest.mark.parametrize("axis_deg, line, expected", [
    (0.0, (0.0, 5.0), 0.0),       # along the line
    (0.0, (0.0, -5.0), 0.0),      # an axis has no sign
    (90.0, (0.0, 5.0), 90.0),     # across it
    (0.0, (1.0, 1.0), 45.0),
    (170.0, (0.0, -2.0), 10.0),
    (-30.0, (np.sin(np.radians(150.0)), np.cos(np.radians(150.0))), 0.0),
    (200.0, (1.0, 0.0), 70.0),    # axis taken modulo 180
])
def test_axis_to_line_angle(axis_deg, line, expected):
    assert float(axis_to_line_deg(axis_deg, *line)) == pytest.approx(expected, abs=1e-9)


def test_no_line_gives_nan():
    got = axis_to_line_deg(np.array([10.0, 10.0]), np.array([0.0, 1.0]), np.array([0.0, 0.0]))
    assert np.isnan(got[0]) and got[1] == pytest.approx(80.0)
