"""MATLAB-compatible array primitives for the ``vifb`` and ``tang`` profiles.

Every function works on N x H x W float64 stacks (one image per leading index) and
reproduces what the named MATLAB / Image Processing Toolbox call returns for the
same data, up to floating-point summation order. Filters, Sobel responses and
histograms that the default profile also uses live in :mod:`metrics.filters` and
:mod:`metrics.histograms`; this module holds only what the MATLAB codes add. Nothing
here is a metric.

References
----------
MATLAB documentation of ``uint8``, ``round``, ``filter2``, ``freqspace``, ``fft2`` /
``fftshift`` and ``blkproc`` (MathWorks).
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import fft as sfft


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: halves go away from zero (numpy's ``round`` goes to even).

    Parameters
    ----------
    x : ndarray
        Real values.

    Returns
    -------
    ndarray
        Rounded values, same dtype (float).
    """
    magnitude = np.abs(x)
    whole = np.floor(magnitude)
    return np.copysign(whole + (magnitude - whole >= 0.5), x)


def to_uint8_values(x: np.ndarray) -> np.ndarray:
    """The pixel values MATLAB's ``uint8(x)`` keeps, as float64.

    The MATLAB evaluators read PNG files as uint8; our metrics receive float stacks on
    the 0..255 scale. ``uint8`` rounds halves away from zero and saturates to 0..255.

    Parameters
    ----------
    x : ndarray
        Values on the 0..255 scale.

    Returns
    -------
    ndarray
        float64 integers in 0..255 (the input itself when it already is one).
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # an out-of-range cast never equals its input
        if np.array_equal(x.astype(np.uint8), x):
            return x
    return np.clip(matlab_round(x), 0.0, 255.0)


def filter2_same(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``filter2(outer(taps, taps), x, 'same')``: zero padding, real or complex stacks.

    ``filter2`` filters the real and imaginary parts of a complex image separately. One
    OpenCV call per image plane with a zero border, so nothing is padded or cropped.
    """
    if np.iscomplexobj(x):
        out = np.empty(x.shape, dtype=np.complex128)
        out.real, out.imag = filter2_same(x.real, taps), filter2_same(x.imag, taps)
        return out
    taps = np.asarray(taps, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    for image, result in zip(x, out):
        cv2.sepFilter2D(image, cv2.CV_64F, taps, taps, dst=result, borderType=cv2.BORDER_CONSTANT)
    return out


def freqspace_meshgrid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``[u, v] = freqspace([height width], 'meshgrid')``.

    Frequencies (k - floor(n/2)) * 2/n for k = 0..n-1, u varying along columns, v along
    rows, both H x W; the origin sits where ``fftshift`` puts the DC term.
    """
    u = (np.arange(width) - width // 2) * (2.0 / width)
    v = (np.arange(height) - height // 2) * (2.0 / height)
    return np.meshgrid(u, v)


def centred_filter_fft(x: np.ndarray, response: np.ndarray) -> np.ndarray:
    """``ifft2(ifftshift(fftshift(fft2(x)) .* response))`` for every image of a stack.

    ``response`` is laid out like ``fftshift`` output (DC at the centre). Multiplying
    the shifted spectrum and shifting back equals multiplying the unshifted spectrum by
    ``ifftshift(response)``, which is what is computed. The result is complex, as in MATLAB.
    """
    return sfft.ifft2(sfft.fft2(x) * sfft.ifftshift(response))


def centred_filter_real(x: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The real part of :func:`centred_filter_fft` for real x and a real response that
    is symmetric about the centre (``response(-u, -v) = response(u, v)``, as a function
    of the radius is): then the complex result is real up to rounding, and a real FFT
    pair computes it in about half the time (equal to the complex route's real part to
    about 1e-13 relative)."""
    h, w = x.shape[-2:]
    half = sfft.ifftshift(response)[:, :w // 2 + 1]
    return sfft.irfft2(sfft.rfft2(x) * half, s=(h, w))


def normalize_minmax_round(x: np.ndarray) -> np.ndarray:
    """Z. Liu's ``normalize1``: min-max scale each image to 0..255 and round.

    An all-zero image is returned unchanged; a constant non-zero image gives NaN (0/0),
    as in MATLAB.
    """
    lo = x.min(axis=(1, 2), keepdims=True)
    hi = x.max(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = matlab_round((x - lo) / (hi - lo) * 255.0)
    untouched = (lo == 0) & (hi == 0)
    return np.where(untouched, x, scaled)


def block_reduce(x: np.ndarray, block: int, how: str) -> np.ndarray:
    """``blkproc(x, [block block], fun)`` with ``fun`` = sum or mean of each block.

    Like ``blkproc``, partial blocks at the right and bottom are padded with zeros, so a
    ``'mean'`` there still divides by block * block.

    Returns
    -------
    ndarray
        N x ceil(H/block) x ceil(W/block).
    """
    n, h, w = x.shape
    ph, pw = -h % block, -w % block
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw)))
    tiles = x.reshape(n, (h + ph) // block, block, (w + pw) // block, block)
    total = tiles.sum(axis=(2, 4))
    return total / (block * block) if how == "mean" else total
