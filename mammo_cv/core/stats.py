"""Robust statistics shared by the stages."""

from __future__ import annotations

import numpy as np

__all__ = ["MAD_TO_SIGMA", "robust_sigma"]

#: Sigma of a Gaussian over its median absolute deviation (1 / Phi^-1(3/4) = 1.48260...).
MAD_TO_SIGMA = 1.4826


def robust_sigma(values: np.ndarray) -> np.float64:
    """Gaussian sigma estimated from the median absolute deviation: a few outliers (bright
    objects, edges) among ``values`` do not raise it.

    Parameters
    ----------
    values : ndarray of float
        Samples, any shape (flattened).

    Returns
    -------
    numpy.float64
        ``MAD_TO_SIGMA * median(|values - median(values)|)``, in the units of ``values``.

    Examples
    --------
    >>> float(robust_sigma(np.array([1.0, 2.0, 3.0, 4.0, 100.0])))  # MAD = 1
    1.4826
    """
    return MAD_TO_SIGMA * np.median(np.abs(values - np.median(values)))
