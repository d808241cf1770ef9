"""Batched linear filters shared by the metric modules (all profiles).

Every function takes an N x H x W float64 stack and filters each image on its own.
Filters are correlations (no kernel flip); the symmetric windows used by the metrics
make correlation and convolution coincide, and the Sobel helpers state their sign.

Public, stable names: :func:`filter3x3`, :func:`sobel`, :func:`gaussian_taps`, :func:`filter_valid`,
:func:`box_valid`, :func:`local_moments`, :class:`LocalMoments`, :func:`halve`.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_PAD_MODES = {"constant": "constant", "reflect101": "reflect", "replicate": "edge"}


SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = SOBEL_X.T.copy()


def filter3x3(x: np.ndarray, kernel: np.ndarray, border: str = "constant",
              convolve: bool = False) -> np.ndarray:
    """Correlate (or convolve) each image with a 3x3 kernel; output the same size.

    The nonzero products are summed in row-major kernel order, the order of
    ``scipy.signal.correlate2d`` (of ``convolve2d`` with ``convolve=True``), so the
    results are bitwise equal to scipy's ``mode='same'`` with zero fill for
    ``border="constant"``. Edge measures compare responses for equality and take
    ``arctan`` of their ratios; matching the summation order keeps those decisions
    identical to the reference code on non-integer input too.

    Parameters
    ----------
    x : ndarray, N x H x W
    kernel : ndarray, 3 x 3
    border : {"constant", "reflect101", "replicate"}
        Extension outside the image: zeros, mirror without repeating the edge
        (``dcb|abcd``, OpenCV's BORDER_REFLECT_101, numpy's 'reflect'), or edge copies.
    convolve : bool
        Flip the kernel (true convolution) instead of correlating.
    """
    if border not in _PAD_MODES:
        raise ValueError(f"unknown border {border!r}; use one of {', '.join(_PAD_MODES)}")
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode=_PAD_MODES[border])
    _, h, w = x.shape
    out = np.zeros(x.shape)  # starting at +0 the sum never becomes -0, as in scipy
    term = np.empty(x.shape)
    for m in range(3):
        for n in range(3):
            weight = float(kernel[m, n])
            r, c = (2 - m, 2 - n) if convolve else (m, n)
            view = padded[:, r:r + h, c:c + w]
            if weight == 0.0:
                continue  # s + 0*v == s
            if weight == 1.0:
                out += view
            elif weight == -1.0:
                out -= view  # s + (-1*v) == s - v bitwise
            else:
                np.multiply(view, weight, out=term)
                out += term
    return out


def sobel(x: np.ndarray, border: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """Sobel responses of each image, same size as the input.

    Returns ``gx`` = correlation with ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` (positive
    where values grow to the right) and ``gy`` = correlation with its transpose (positive
    where values grow downward), computed by :func:`filter3x3` (``border`` as there).
    Unnormalised: a unit step gives 4. Exact on integer-valued input.
    """
    return filter3x3(x, SOBEL_X, border), filter3x3(x, SOBEL_Y, border)


def gaussian_taps(size: int, sigma: float) -> np.ndarray:
    """1-D taps whose outer product is MATLAB's ``fspecial('gaussian', size, sigma)``.

    The 2-D window ``exp(-(x^2 + y^2) / (2 sigma^2))`` normalised to sum 1 equals
    ``outer(t, t)`` for these taps. ``fspecial`` zeroes coefficients below
    ``eps * max``; that would break separability, so such windows are refused.
    """
    half = (size - 1) / 2.0
    taps = np.exp(-np.arange(-half, half + 1) ** 2 / (2.0 * sigma * sigma))
    if taps[0] ** 2 < np.finfo(np.float64).eps * taps.max() ** 2:
        raise ValueError(f"a {size}x{size} Gaussian with sigma {sigma} is truncated by fspecial; "
                         "it is not separable")
    return taps / taps.sum()


def _separable(x: np.ndarray, taps_y: np.ndarray, taps_x: np.ndarray) -> np.ndarray:
    """Valid-region separable correlation of every image of a stack in one OpenCV call.

    The stack is laid out as one tall (N*H) x W image: rows that mix two images lie
    within the kernel radius of an image border and are cropped with the invalid region.
    """
    n, h, w = x.shape
    ky, kx = len(taps_y), len(taps_x)
    if h < ky or w < kx:
        raise ValueError(f"{h}x{w} images are smaller than the {ky}x{kx} window")
    tall = np.ascontiguousarray(x, dtype=np.float64).reshape(n * h, w)
    out = cv2.sepFilter2D(tall, cv2.CV_64F, np.asarray(taps_x, np.float64),
                          np.asarray(taps_y, np.float64), anchor=(kx // 2, ky // 2),
                          borderType=cv2.BORDER_REFLECT_101)
    out = out.reshape(n, h, w)
    top, left = ky // 2, kx // 2
    return out[:, top:top + h - ky + 1, left:left + w - kx + 1]


def filter_valid(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Correlate each image with ``outer(taps, taps)``, keeping the 'valid' region.

    Equal to ``scipy.signal.correlate2d(image, outer(taps, taps), mode='valid')`` per
    image; output N x (H-k+1) x (W-k+1) for k taps (k odd).
    """
    if len(taps) % 2 != 1:
        raise ValueError("filter_valid needs an odd number of taps")
    return _separable(x, taps, taps)


def box_valid(x: np.ndarray, size: int) -> np.ndarray:
    """Local means over ``size x size`` windows, 'valid' region (size odd).

    OpenCV's running-sum box filter: the same means as :func:`filter_valid` with
    uniform taps up to rounding (about 1e-13 relative on 0..255 data).
    """
    n, h, w = x.shape
    if size % 2 != 1:
        raise ValueError("box_valid needs an odd window size")
    if h < size or w < size:
        raise ValueError(f"{h}x{w} images are smaller than the {size}x{size} window")
    tall = np.ascontiguousarray(x, dtype=np.float64).reshape(n * h, w)
    out = cv2.boxFilter(tall, cv2.CV_64F, (size, size), normalize=True,
                        borderType=cv2.BORDER_REFLECT_101).reshape(n, h, w)
    r = size // 2
    return out[:, r:h - r, r:w - r]


@dataclass(frozen=True)
class LocalMoments:
    """Windowed first and second moments of two stacks x and y (same shapes)."""

    mu_x: np.ndarray
    mu_y: np.ndarray
    var_x: np.ndarray
    var_y: np.ndarray
    cov: np.ndarray


def _tile(x: np.ndarray, count: int) -> np.ndarray:
    return x if count == 1 else np.concatenate([x] * count)


def local_moments(x: np.ndarray, y: np.ndarray, taps: np.ndarray,
                  correction: float = 1.0) -> LocalMoments:
    """Local means, variances and covariance of x and y over the window ``outer(taps, taps)``.

    Variances are ``correction * (E[x^2] - E[x]^2)`` with ``E`` the windowed mean in the
    'valid' region; ``correction = k^2 / (k^2 - 1)`` gives the sample (N-1) statistics
    of a uniform k x k window (scikit-image's default), 1 the population statistics.
    Nothing is clamped. One of the stacks may be shorter, its length dividing the
    other's: it is then filtered once and repeated (e.g. one fused stack F against the
    sources [A, B]). Uniform taps use OpenCV's box filter.
    """
    count = max(len(x), len(y)) // min(len(x), len(y))
    if count * min(len(x), len(y)) != max(len(x), len(y)):
        raise ValueError(f"stack lengths {len(x)} and {len(y)}: one must divide the other")
    wide_x, wide_y = _tile(x, len(y) // len(x) or 1), _tile(y, len(x) // len(y) or 1)
    box = bool(np.all(taps == taps[0]))
    filtered = (box_valid if box else filter_valid)(
        np.concatenate([x, y, x * x, y * y, wide_x * wide_y]),
        len(taps) if box else taps)  # type: ignore[arg-type]
    nx, ny = len(x), len(y)
    mu_x, mu_y = filtered[:nx], filtered[nx:nx + ny]
    xx, yy = filtered[nx + ny:2 * nx + ny], filtered[2 * nx + ny:2 * (nx + ny)]
    xy = filtered[2 * (nx + ny):]
    var_x, var_y = correction * (xx - mu_x * mu_x), correction * (yy - mu_y * mu_y)
    mu_x, var_x = _tile(mu_x, len(xy) // nx), _tile(var_x, len(xy) // nx)
    mu_y, var_y = _tile(mu_y, len(xy) // ny), _tile(var_y, len(xy) // ny)
    return LocalMoments(mu_x, mu_y, var_x, var_y, correction * (xy - mu_x * mu_y))


def halve(x: np.ndarray) -> np.ndarray:
    """2x2 block means keeping every second row and column (MS-SSIM downsampling).

    Equals MATLAB's ``imfilter(x, ones(2)/4, 'symmetric', 'same')`` followed by
    ``x(1:2:end, 1:2:end)``: an odd last row or column is averaged with itself.
    """
    _, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2])
