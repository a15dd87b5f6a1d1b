"""Plane geometry shared by the stages: principal axes from second moments, axis-to-line angles.

Coordinates are (row, col); an angle is measured from the +col axis toward +row (clockwise on
screen), as in the output tables.
"""

from __future__ import annotations

import numpy as np

__all__ = ["principal_moments", "principal_axis_rad", "axis_to_line_deg"]


def principal_moments(mu_rr: np.ndarray, mu_cc: np.ndarray,
                      mu_rc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of the second-moment matrix ``[[mu_rr, mu_rc], [mu_rc, mu_cc]]``.

    Parameters
    ----------
    mu_rr, mu_cc, mu_rc : ndarray of float64 or float
        Second central moments (row variance, col variance, covariance) in any squared unit
        (px^2, mm^2); arrays of one shape, one matrix per entry.

    Returns
    -------
    major, minor : ndarray of float64
        Largest and smallest eigenvalue (variance along and across the principal axis),
        ``major >= minor``. For points on a line ``minor`` is 0 up to rounding and may come
        out a few ulps below 0: callers that divide by it clamp it.

    Examples
    --------
    >>> major, minor = principal_moments(4.0, 1.0, 0.0)
    >>> float(major), float(minor)
    (4.0, 1.0)
    """
    half_trace = 0.5 * (mu_rr + mu_cc)
    half_gap = np.hypot(0.5 * (mu_rr - mu_cc), mu_rc)
    return half_trace + half_gap, half_trace - half_gap


def principal_axis_rad(mu_rr: np.ndarray, mu_cc: np.ndarray, mu_rc: np.ndarray) -> np.ndarray:
    """Direction of the principal (major) axis of the second moments, in radians.

    Parameters
    ----------
    mu_rr, mu_cc, mu_rc : ndarray of float64 or float
        Second central moments, as in :func:`principal_moments`.

    Returns
    -------
    ndarray of float64
        Angle from +col toward +row in [-pi/2, pi/2]; 0 when the moments are isotropic
        (no axis: callers test the eigenvalue ratio).

    Examples
    --------
    >>> float(np.degrees(principal_axis_rad(1.0, 1.0, 0.5)))  # along the diagonal row = col
    45.0
    """
    return 0.5 * np.arctan2(2.0 * mu_rc, mu_cc - mu_rr)


def axis_to_line_deg(axis_deg: np.ndarray, line_row: np.ndarray, line_col: np.ndarray) -> np.ndarray:
    """Angle between an undirected axis and the line of direction (line_row, line_col).

    Parameters
    ----------
    axis_deg : ndarray of float64 or float
        Axis direction in degrees from +col toward +row (any value; taken modulo 180).
    line_row, line_col : ndarray of float64 or float
        Direction of the line, e.g. from a centroid to the nipple, in one length unit.

    Returns
    -------
    ndarray of float64
        Angle in [0, 90] degrees; NaN where the direction is (0, 0) (no line).

    Examples
    --------
    >>> float(axis_to_line_deg(0.0, 1.0, 1.0)), float(axis_to_line_deg(170.0, 0.0, -2.0))
    (45.0, 10.0)
    """
    toward_deg = np.degrees(np.arctan2(line_row, line_col))
    between = np.abs((axis_deg - toward_deg + 90.0) % 180.0 - 90.0)
    return np.where(np.hypot(line_row, line_col) == 0, np.nan, between)
