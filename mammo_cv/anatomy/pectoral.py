"""The pectoral muscle on oblique and lateral views, in the canonical working grid (chest wall left).

Edge points in the upper chest-wall part of the breast whose gradient points to the upper-left
corner (brighter towards the muscle) vote, weighted by gradient magnitude, for lines whose
normal is within the angle spread of their gradient direction (a gradient-directed Hough
transform). The best line is refined on its inliers, and accepted if it cuts a corner triangle
of plausible size that is clearly brighter than the tissue beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mammo_cv.anatomy.working_grid import WorkingGrid

__all__ = ["Pectoral", "find_pectoral", "refine_line", "half_plane_mask", "clip_half_plane"]


@dataclass(frozen=True)
class Pectoral:
    """Pectoral edge n . (row, col) = rho in canonical working px, n = (sin t, cos t)."""

    theta_deg: float
    rho_px: float
    top_rc: tuple[float, float]
    chest_wall_rc: tuple[float, float]  # lower end: on the chest wall, or on the breast's lower border
    contrast: float

    @property
    def normal(self) -> np.ndarray:
        t = np.deg2rad(self.theta_deg)
        return np.array([np.sin(t), np.cos(t)])


def find_pectoral(work: np.ndarray, mask: np.ndarray, levels: tuple[float, float], spacing_mm: float, *,
                  min_contrast: float, sigma_mm: float, skin_margin_mm: float,
                  angle_range_deg: tuple[float, float], angle_spread_deg: float, inlier_mm: float,
                  band_mm: float, min_area_fraction: float, max_area_fraction: float) -> tuple[Pectoral | None, str]:
    """Pectoral edge in the canonical working grid (chest wall at the left).

    Parameters
    ----------
    work, mask : (m, n) ndarray of float32, (m, n) ndarray of bool
        Canonical working image (larger = more attenuation) and breast mask.
    levels : (float, float)
        (background, tissue) levels; the contrast is measured in units of their difference.
    spacing_mm : float
        Working pixel size, mm.
    min_contrast : float
        Minimum (muscle band median - adjacent band median) / (tissue - background).
    sigma_mm, skin_margin_mm : float
        Gaussian sigma before the gradient; edge points this close to the skin line are ignored.
    angle_range_deg : (float, float)
        Accepted angle of the edge's normal from the row axis, (min, max).
    angle_spread_deg, inlier_mm : float
        Voting spread around each point's gradient direction; inlier distance of the refinement.
    band_mm : float
        Width of the bands on each side of the line for the contrast test, and the shortest edge.
    min_area_fraction, max_area_fraction : float
        Accepted muscle area, as a fraction of the breast.

    Returns
    -------
    pectoral : Pectoral or None
    note : str
        Why it was not found, or its angle and contrast.
    """
    smooth = cv2.GaussianBlur(work, (0, 0), sigma_mm / spacing_mm)
    box = _extent(mask)
    points = _edge_points(smooth, mask, box, skin_margin_mm, spacing_mm, angle_range_deg, angle_spread_deg)
    if points is None:
        return None, "pectoral: not found (no edge pointing to the chest-wall corner)"
    rr, cc, theta_pt, magnitude = points
    theta_0, rho_0 = _hough_peak(rr, cc, theta_pt, magnitude, mask.shape, angle_range_deg, angle_spread_deg)
    theta, rho_line = refine_line(np.stack([rr, cc], axis=1).astype(np.float64), theta_pt, magnitude,
                                  theta_0, rho_0, inlier_mm / spacing_mm, angle_spread_deg)
    lo, hi = angle_range_deg
    if not lo <= theta <= hi:
        return None, f"pectoral: not found (refined edge at {theta:.0f} deg is out of range)"
    ends = _corner_ends(theta, rho_line, box, band_mm / spacing_mm)
    if ends is None:
        return None, (f"pectoral: not found (best line at {theta:.0f} deg does not cut the "
                      f"upper chest-wall corner)")
    top_rc, end_rc = ends
    grid_r, signed = _signed_distance(mask.shape, theta, rho_line)
    fraction = (mask & (signed < 0)).sum() / mask.sum()
    if not min_area_fraction <= fraction <= max_area_fraction:
        return None, f"pectoral: not found (corner region is {100 * fraction:.0f} % of the breast)"
    contrast = _edge_contrast(smooth, mask & (grid_r <= end_rc[0]), signed, band_mm / spacing_mm, levels)
    if contrast < min_contrast:
        return None, f"pectoral: not found (edge contrast {contrast:.2f} < {min_contrast:.2f})"
    pectoral = Pectoral(theta_deg=theta, rho_px=rho_line, top_rc=top_rc,
                        chest_wall_rc=(float(end_rc[0]), float(end_rc[1])), contrast=contrast)
    return pectoral, f"pectoral: found at {theta:.0f} deg, contrast {contrast:.2f}"


def _extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, first col, last col) of a non-empty mask, inclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _edge_points(smooth: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], skin_margin_mm: float,
                 spacing_mm: float, angle_range_deg: tuple[float, float], spread_deg: float):
    """Strong edge points of the upper chest-wall part of the breast, ``skin_margin_mm`` inside the
    skin, whose gradient points to the chest-wall corner: (rr, cc, gradient angle deg, magnitude),
    each (K,), or None when fewer than 10 point that way."""
    grad_r = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    grad_c = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    top, bottom, c0, c1 = box
    margin = max(3, int(round(2 * skin_margin_mm / spacing_mm)) | 1)
    inner = cv2.erode(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (margin, margin)))
    inner[int(top + 0.75 * (bottom - top)):, :] = 0
    inner[:, int(c0 + 0.75 * (c1 - c0)):] = 0
    rr, cc = np.nonzero(inner)
    gr, gc = grad_r[rr, cc], grad_c[rr, cc]
    theta_pt = np.rad2deg(np.arctan2(-gr, -gc))
    magnitude = np.hypot(gr, gc)
    lo, hi = angle_range_deg
    keep = (theta_pt > lo - spread_deg) & (theta_pt < hi + spread_deg)
    if keep.sum() < 10:
        return None
    keep &= magnitude >= np.percentile(magnitude[keep], 75)
    return rr[keep], cc[keep], theta_pt[keep], magnitude[keep]


def _hough_peak(rr: np.ndarray, cc: np.ndarray, theta_pt: np.ndarray, magnitude: np.ndarray,
                shape: tuple[int, int], angle_range_deg: tuple[float, float], spread_deg: float) -> tuple[float, float]:
    """(theta deg, rho px) of the strongest line on a 1 deg x 1 px grid, each point voting for the
    angles within ``spread_deg`` of its gradient, weighted by its magnitude."""
    lo, hi = angle_range_deg
    thetas = np.arange(lo, hi + 0.5, 1.0)
    t = np.deg2rad(thetas)
    rho = rr[:, None] * np.sin(t)[None, :] + cc[:, None] * np.cos(t)[None, :]
    votes = np.abs(theta_pt[:, None] - thetas[None, :]) <= spread_deg
    n_rho = int(np.hypot(*shape)) + 2
    index = np.arange(thetas.size)[None, :] * n_rho + np.clip(np.round(rho), 0, n_rho - 1).astype(np.intp)
    weights = np.broadcast_to(magnitude[:, None], votes.shape)[votes]
    accumulator = np.bincount(index[votes], weights=weights, minlength=thetas.size * n_rho)
    accumulator = cv2.blur(accumulator.reshape(thetas.size, n_rho).astype(np.float32), (3, 3))
    k_theta, k_rho = np.unravel_index(int(np.argmax(accumulator)), accumulator.shape)
    return float(thetas[k_theta]), float(k_rho)


def _corner_ends(theta_deg: float, rho_px: float, box: tuple[int, int, int, int],
                 min_len_px: float) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the line leaves the breast's bounding box: (top end, lower end) (row, col), the lower
    end on the chest wall or, for a steep edge, on the lower border; None unless it cuts the upper
    chest-wall corner with both legs longer than ``min_len_px``."""
    top, bottom, c0, c1 = box
    s, c = np.sin(np.deg2rad(theta_deg)), np.cos(np.deg2rad(theta_deg))
    c_top = (rho_px - top * s) / c
    r_cw = (rho_px - c0 * c) / s
    if not (c0 + min_len_px < c_top < c1 and r_cw > top + min_len_px):
        return None
    end_rc = (r_cw, float(c0)) if r_cw <= bottom else (float(bottom), (rho_px - bottom * s) / c)
    return (float(top), float(c_top)), end_rc


def _signed_distance(shape: tuple[int, int], theta_deg: float, rho_px: float) -> tuple[np.ndarray, np.ndarray]:
    """(row index, signed distance px to the line, negative on the muscle side), each (m, n)."""
    s, c = np.sin(np.deg2rad(theta_deg)), np.cos(np.deg2rad(theta_deg))
    grid_r, grid_c = np.indices(shape)
    return grid_r, grid_r * s + grid_c * c - rho_px


def _edge_contrast(smooth: np.ndarray, near: np.ndarray, signed: np.ndarray, band_px: float,
                   levels: tuple[float, float]) -> float:
    """(median of the muscle-side band - median of the band beyond the line) / (tissue - background),
    over the ``near`` pixels (the breast above the line's lower end)."""
    inside = near & (signed > -band_px) & (signed < 0)
    outside = near & (signed >= 0) & (signed < band_px)
    return (float(np.median(smooth[inside])) - float(np.median(smooth[outside]))) / (levels[1] - levels[0])


def refine_line(points: np.ndarray, theta_pt: np.ndarray, weights: np.ndarray, theta_deg: float,
                rho_px: float, inlier_px: float, spread_deg: float, iterations: int = 2) -> tuple[float, float]:
    """Refine a Hough line by magnitude-weighted total least squares on its inliers: edge
    points (K, 2) within ``inlier_px`` of the line whose gradient angle is within
    ``spread_deg``. Returns (theta_deg, rho_px) with the normal kept towards +row/+col."""
    for _ in range(iterations):
        t = np.deg2rad(theta_deg)
        distance = points @ np.array([np.sin(t), np.cos(t)]) - rho_px
        inliers = (np.abs(distance) <= inlier_px) & (np.abs(theta_pt - theta_deg) <= spread_deg)
        if inliers.sum() < 10:
            break
        w = weights[inliers]
        centre = (w[:, None] * points[inliers]).sum(axis=0) / w.sum()
        offsets = points[inliers] - centre
        normal = np.linalg.eigh((w[:, None] * offsets).T @ offsets)[1][:, 0]  # smallest eigenvalue
        normal = normal if normal[1] > 0 else -normal
        theta_deg = float(np.rad2deg(np.arctan2(normal[0], normal[1])))
        rho_px = float(centre @ normal)
    return theta_deg, rho_px


def half_plane_mask(pectoral: Pectoral, grid: WorkingGrid) -> np.ndarray:
    """(M, N) bool: the muscle side (n . p < rho) of the pectoral line in the full grid."""
    rows, cols = grid.shape
    corners = np.array([[-0.5, -0.5], [-0.5, cols - 0.5], [rows - 0.5, cols - 0.5], [rows - 0.5, -0.5]])
    polygon = clip_half_plane(corners, pectoral.normal, pectoral.rho_px)
    out = np.zeros(grid.full_shape, dtype=np.uint8)
    if len(polygon) >= 3:
        full = grid.to_full(polygon)
        points = np.round(full[:, ::-1] * 16).astype(np.int32)  # (x, y), 4 fractional bits
        cv2.fillPoly(out, [points], 1, lineType=cv2.LINE_8, shift=4)
    return out.view(bool)  # 0/1 bytes: a view, not a second full-size copy


def clip_half_plane(polygon: np.ndarray, normal: np.ndarray, rho: float) -> np.ndarray:
    """Clip a convex polygon ((K, 2) row, col) to {p : normal . p <= rho} (Sutherland-Hodgman).

    Examples
    --------
    >>> import numpy as np
    >>> square = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 2.0], [2.0, 0.0]])
    >>> clip_half_plane(square, np.array([0.0, 1.0]), 1.0).tolist()  # keep col <= 1
    [[0.0, 0.0], [0.0, 1.0], [2.0, 1.0], [2.0, 0.0]]
    """
    signed = polygon @ normal - rho
    out = []
    for k in range(len(polygon)):
        p, q, sp, sq = polygon[k], polygon[(k + 1) % len(polygon)], signed[k], signed[(k + 1) % len(polygon)]
        if sp <= 0:
            out.append(p)
        if (sp < 0 < sq) or (sq < 0 < sp):
            out.append(p + (q - p) * sp / (sp - sq))
    return np.array(out).reshape(-1, 2)
