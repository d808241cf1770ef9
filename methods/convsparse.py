"""Convolutional sparse coding as Liu et al.'s CSR and CSMCA fusion run it (SPORCO MATLAB).

The pieces both methods share: the Tikhonov two-scale split (SPORCO ``lowpass``), the
convolutional basis pursuit denoising solver (SPORCO ``cbpdn``: ADMM in the DFT domain with
circular convolution, Sherman-Morrison X-step, over-relaxation and residual-balancing rho),
synthesis from coefficient maps, and the choose-max-activity rule on coefficient vectors.

The solver follows the authors' MATLAB in single precision: their dictionaries or images
are ``single``, and MATLAB evaluates single x double in single, so every FFT, iterate and
coefficient map is float32. It computes what ``sporco.admm.cbpdn.ConvBPDN`` computes with
the options in docs/methods.md (``tests/test_convsparse.py`` checks it), laid out
filters-first (contiguous batched FFTs) with the element-wise steps fused by numba: about
1.7x the package's speed (``tests/test_convsparse_bench.py``), and it carries CSMCA's
overflow guard.

References
----------
B. Wohlberg, "Efficient algorithms for convolutional sparse representations", IEEE Trans.
Image Processing 25(1), 301-315, 2016.
B. Wohlberg, "ADMM penalty parameter selection by residual balancing", arXiv:1704.06209,
2017 (the automatic rho rule).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import scipy.fft
import scipy.io
import scipy.ndimage

FLOAT32_MAX = float(np.finfo(np.float32).max)


def load_dictionary(path: Path, key: str) -> np.ndarray:
    """The 8 x 8 x M filters ``key`` of a MATLAB dictionary file, as stored (single or
    double): ValueError naming the file when it does not hold them."""
    try:
        filters = scipy.io.loadmat(str(path))[key]
    except (KeyError, ValueError, OSError, scipy.io.matlab.MatReadError) as error:
        raise ValueError(f"{path}: not a MATLAB file holding the dictionary {key!r} ({error}); "
                         f"pass the authors' file, e.g. fetched by 'mmif-bench fetch weights'"
                         ) from None
    if filters.ndim != 3:
        raise ValueError(f"{path}: {key!r} has shape {filters.shape}, expected h x w x filters")
    return filters


def tikhonov_split(image: np.ndarray, lmbda: float,
                   npad: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Base and detail layers of ``image`` (SPORCO ``lowpass``): the base solves
    ``min_x ||x - s||^2 + lmbda (||g_r * x||^2 + ||g_c * x||^2)`` with [-1 1] difference
    filters, by DFT on the image mirrored by ``npad`` pixels (edge repeated); detail =
    image - base. Computed in the image's precision."""
    padded = np.pad(image, npad, mode="symmetric")
    rows, cols = padded.shape
    gain_r = np.abs(np.fft.fft([-1.0, 1.0], cols)) ** 2
    gain_c = np.abs(np.fft.fft([-1.0, 1.0], rows)) ** 2
    denominator = 1.0 + lmbda * gain_r[None, : cols // 2 + 1] + lmbda * gain_c[:, None]
    spectrum = scipy.fft.rfft2(padded)
    base = scipy.fft.irfft2(spectrum / denominator.astype(image.dtype), s=padded.shape)
    base = base[npad:-npad, npad:-npad].astype(image.dtype, copy=False)
    return base, image - base


def filter_spectra(filters: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """M x H x (W/2+1) real DFTs of h x w x M ``filters`` zero-padded to ``shape`` at the
    array origin (MATLAB ``fft2(D, H, W)``), in the filters' precision."""
    return scipy.fft.rfft2(np.moveaxis(filters, 2, 0), s=shape)


def synthesize(spectra: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """``sum_m d_m * x_m`` by circular convolution: float32 H x W from M x H x W ``maps``."""
    product = spectra.astype(np.complex64) * scipy.fft.rfft2(maps)
    return scipy.fft.irfft2(product.sum(axis=0), s=maps.shape[1:])


def choose_by_activity(maps1: np.ndarray, maps2: np.ndarray, radius: int) -> np.ndarray:
    """The coefficient vector of the source with the larger activity at each pixel.

    Activity is the l1 norm over the M maps, averaged over a (2r+1)^2 window with zero
    padding (MATLAB ``imfilter`` defaults); the first source wins only where its activity
    is strictly larger (ties go to the second, as in the authors' ``>``)."""
    size = 2 * radius + 1
    activity = [scipy.ndimage.uniform_filter(np.abs(maps).sum(axis=0, dtype=np.float32), size,
                                             mode="constant", cval=0.0)
                for maps in (maps1, maps2)]
    return np.where(activity[0] > activity[1], maps1, maps2)


@dataclass(frozen=True)
class ADMMOptions:
    """Options of SPORCO's ``cbpdn`` that CSR and CSMCA set or inherit."""

    rho: float
    max_iter: int
    rel_tol: float = 1e-3
    relax: float = 1.8
    rho_ratio: float = 1.2
    rho_scaling: float = 100.0
    rho_guard: bool = True
    """Skip a rho update that would take rho past the float32 range (where the MATLAB
    code's single-precision ``rho * fft2(Y - U)`` becomes Inf/NaN); False computes what the
    authors' code computes, NaN included."""


@numba.njit(cache=True, nogil=True, error_model="numpy")  # x / 0 gives Inf/NaN, as MATLAB
def _x_step(dsf, spectra, gains, residual_f, rho):
    """Sherman-Morrison solve of (D^H D + rho I) x = D^H s + rho (y - u) per frequency,
    in place of ``residual_f`` (which holds DFT(y - u) on entry, DFT(x) on exit)."""
    m_count, rows, cols = residual_f.shape
    rho32 = np.float32(rho)
    weighted = np.zeros((rows, cols), dtype=np.complex64)
    for m in range(m_count):
        for i in range(rows):
            for j in range(cols):
                b = dsf[m, i, j] + rho32 * residual_f[m, i, j]
                residual_f[m, i, j] = b
                weighted[i, j] += gains[m, i, j] * b
    for m in range(m_count):
        for i in range(rows):
            for j in range(cols):
                residual_f[m, i, j] = (residual_f[m, i, j]
                                       - weighted[i, j] * np.conj(spectra[m, i, j])) / rho32
    return residual_f


@numba.njit(cache=True, nogil=True, error_model="numpy")  # x / 0 gives Inf/NaN, as MATLAB
def _yu_step(x, y, u, difference, relax, threshold):
    """Relaxation, soft threshold and dual update in place of ``y``, ``u`` and
    ``difference`` (y - u for the next X-step); returns the squared norms of x - y, x, y,
    u and y - y_prev."""
    a = np.float32(relax)
    b = np.float32(1.0 - relax)
    t = np.float32(threshold)
    zero = np.float32(0.0)
    xs = x.ravel()
    ys = y.ravel()
    us = u.ravel()
    ds = difference.ravel()
    r2 = nx2 = ny2 = nu2 = dy2 = 0.0
    for k in range(xs.size):
        xk = xs[k]
        yk = ys[k]
        relaxed = a * xk + b * yk
        v = relaxed + us[k]
        shrunk = v - t if v > t else (v + t if v < -t else zero * v)  # NaN stays NaN
        uk = us[k] + relaxed - shrunk
        dy2 += np.float64(yk - shrunk) ** 2  # float64: squares of tiny float32 iterates
        r2 += np.float64(xk - shrunk) ** 2  # must not underflow (MATLAB's norm scales)
        nx2 += np.float64(xk) ** 2
        ny2 += np.float64(shrunk) ** 2
        nu2 += np.float64(uk) ** 2
        ys[k] = shrunk
        us[k] = uk
        ds[k] = shrunk - uk
    return r2, nx2, ny2, nu2, dy2


def _rho_factor(r: float, s: float, target: float, opt: ADMMOptions) -> float:
    """SPORCO's residual-balancing factor for rho (1: unchanged)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.float32(r) / (np.float32(s) * np.float32(target))
        scale = float(np.sqrt(ratio))
    if not scale >= 1.0:  # also NaN (0/0): then neither test below holds
        scale = 1.0 / scale if scale > 0 else math.inf
    scale = min(scale, opt.rho_scaling)
    if r > target * opt.rho_ratio * s:
        return scale
    if s > (opt.rho_ratio / target) * r:
        return 1.0 / scale
    return 1.0


def conv_bpdn(spectra: np.ndarray, signal: np.ndarray, lmbda: float,
              opt: ADMMOptions) -> np.ndarray:
    """Coefficient maps minimising ``1/2 ||sum_m d_m * x_m - s||^2 + lmbda sum_m ||x_m||_1``
    (SPORCO ``cbpdn``), M x H x W float32: the split variable Y after at most
    ``opt.max_iter`` ADMM iterations, stopped when both normalised residuals reach
    ``opt.rel_tol``. ``spectra``: :func:`filter_spectra` of the dictionary."""
    shape = signal.shape
    m_count = spectra.shape[0]
    spectra32 = spectra.astype(np.complex64)
    energy = (spectra * np.conj(spectra)).real.sum(axis=0)
    dsf = np.conj(spectra32) * scipy.fft.rfft2(signal).astype(np.complex64)
    target = 1.0 + 18.3 ** (math.log10(lmbda) + 1.0)
    rho = np.float32(opt.rho)
    gains = (spectra / (energy + float(rho))).astype(np.complex64)
    y = np.zeros((m_count, *shape), dtype=np.float32)
    u = np.zeros_like(y)
    difference = np.zeros_like(y)
    for k in range(opt.max_iter):
        xf = _x_step(dsf, spectra32, gains, scipy.fft.rfft2(difference), rho)
        x = scipy.fft.irfft2(xf, s=shape)
        r2, nx2, ny2, nu2, dy2 = _yu_step(x, y, u, difference, opt.relax,
                                          np.float32(lmbda / float(rho)))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.float32(math.sqrt(r2)) / np.float32(math.sqrt(max(nx2, ny2)))
            s = np.float32(math.sqrt(dy2)) / np.float32(math.sqrt(nu2))
        if k > 0:
            factor = _rho_factor(float(r), float(s), target, opt)
            if opt.rho_guard and float(rho) * factor > FLOAT32_MAX:
                factor = 1.0
            if factor != 1.0:
                with np.errstate(over="ignore"):
                    rho = np.float32(float(rho) * factor)
                u /= np.float32(factor)
                np.subtract(y, u, out=difference)
                gains = (spectra / (energy + float(rho))).astype(np.complex64)
        if not (r > opt.rel_tol or s > opt.rel_tol):
            break
    return y


def authors_order(a: np.ndarray, b: np.ndarray,
                  modality: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The sources in the order the reference runs pass them: CT first for MRI-CT (the
    authors' CT/MRI demos), else the MRI first. The order matters: ties go to the second."""
    return (b, a) if modality == "CT" else (a, b)


def as_8bit(fused: np.ndarray) -> np.ndarray:
    """MATLAB ``uint8(255 * fused)`` (round half away from zero, saturate, NaN to 0),
    returned on [0, 1] as float32 so that the runner's rounding gives the same levels."""
    scaled = np.nan_to_num(fused.astype(np.float32) * np.float32(255.0), nan=0.0)
    levels = np.clip(np.floor(scaled) + (scaled - np.floor(scaled) >= 0.5), 0.0, 255.0)
    return (levels / 255.0).astype(np.float32)
