"""Batched linear filters shared by the metric modules (all profiles).

Every function takes an N x H x W float64 stack and filters each image on its own.
Filters are correlations (no kernel flip); the symmetric windows used by the metrics
make correlation and convolution coincide, and the Sobel helpers state their sign.

Public, stable names: :func:`sobel`, :func:`gaussian_taps`, :func:`filter_valid`,
:func:`box_valid`, :func:`local_moments`, :class:`LocalMoments`, :func:`halve`.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_PAD_MODES = {"constant": "constant", "reflect101": "reflect", "replicate": "edge"}


def sobel(x: np.ndarray, border: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """Sobel responses of each image, same size as the input.

    Parameters
    ----------
    x : ndarray, N x H x W
    border : {"constant", "reflect101", "replicate"}
        Extension outside the image: zeros (MATLAB ``conv2(..., 'same')``, scipy
        ``convolve2d(mode='same')``), mirror without repeating the edge (``dcb|abcd``,
        OpenCV's BORDER_REFLECT_101), or edge replication.

    Returns
    -------
    gx, gy : ndarray, N x H x W
        Correlation with ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` (positive where values
        grow to the right) and with its transpose (positive where values grow downward).
        Unnormalised: a unit step gives 4. On integer-valued input the results are exact.
    """
    if border not in _PAD_MODES:
        raise ValueError(f"unknown border {border!r}; use one of {', '.join(_PAD_MODES)}")
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode=_PAD_MODES[border])
    rows = padded[:, :-2] + 2.0 * padded[:, 1:-1] + padded[:, 2:]
    cols = padded[:, :, :-2] + 2.0 * padded[:, :, 1:-1] + padded[:, :, 2:]
    return rows[:, :, 2:] - rows[:, :, :-2], cols[:, 2:] - cols[:, :-2]


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
    """Local means over ``size x size`` windows, 'valid' region (size odd)."""
    return filter_valid(x, np.full(size, 1.0 / size))


@dataclass(frozen=True)
class LocalMoments:
    """Windowed first and second moments of two stacks x and y (same shapes)."""

    mu_x: np.ndarray
    mu_y: np.ndarray
    var_x: np.ndarray
    var_y: np.ndarray
    cov: np.ndarray


def local_moments(x: np.ndarray, y: np.ndarray, taps: np.ndarray,
                  correction: float = 1.0) -> LocalMoments:
    """Local means, variances and covariance of x and y over the window ``outer(taps, taps)``.

    Variances are ``correction * (E[x^2] - E[x]^2)`` with ``E`` the windowed mean in the
    'valid' region; ``correction = k^2 / (k^2 - 1)`` gives the sample (N-1) statistics
    of a uniform k x k window (scikit-image's default), 1 the population statistics.
    Nothing is clamped. The five filterings run as two batched calls.
    """
    n = len(x)
    means = filter_valid(np.concatenate([x, y]), taps)
    mu_x, mu_y = means[:n], means[n:]
    seconds = filter_valid(np.concatenate([x * x, y * y, x * y]), taps)
    return LocalMoments(mu_x, mu_y,
                        correction * (seconds[:n] - mu_x * mu_x),
                        correction * (seconds[n:2 * n] - mu_y * mu_y),
                        correction * (seconds[2 * n:] - mu_x * mu_y))


def halve(x: np.ndarray) -> np.ndarray:
    """2x2 block means keeping every second row and column (MS-SSIM downsampling).

    Equals MATLAB's ``imfilter(x, ones(2)/4, 'symmetric', 'same')`` followed by
    ``x(1:2:end, 1:2:end)``: an odd last row or column is averaged with itself.
    """
    _, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2])
