"""Phase congruency (Kovesi's PC_2 as modified by Z. Liu) and Zhao's Q_P built on it.

:func:`phase_congruency` reproduces ``myphasecong3.m`` of Liu's toolbox (copied into
MEFB): a log-Gabor bank of 4 scales x 6 orientations applied by FFT, noise
compensation from the median response, the frequency-spread weighting, and the
maximum and minimum moments of the orientation covariance. :func:`zhao_phase_congruency`
is Q_P (Liu ``metricZhao``, MEFB ``metricsQp``). Definitions: ``docs/metrics.md``
(canon) and the shared ``metric_canon.md`` section 9.

References
----------
.. [1] P. Kovesi, "Image features from phase congruency", Videre: Journal of Computer
   Vision Research 1(3), 1999.
.. [2] P. Kovesi, "Phase congruency detects corners and edges", Proc. DICTA 2003.
.. [3] J. Zhao, R. Laganiere, Z. Liu, "Performance assessment of combinative pixel-level
   image fusion based on an absolute feature measurement", Int. J. Innovative
   Computing, Information and Control 3(6A), 1433-1447, 2007.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .filters import gaussian_taps
from .jit import kernel
from .matlab import filter2_same

SCALES = 4
ORIENTATIONS = 6
MIN_WAVELENGTH = 3.0
MULT = 2.1
SIGMA_ON_F = 0.55
D_THETA_ON_SIGMA = 1.2
NOISE_K = 2.0
CUT_OFF = 0.5
GAIN = 10.0
EPSILON = 1e-4
FEATURE_THRESHOLD = 0.1  # Q_P's mask: PC > 0.1
CORRELATION_C = 1e-4
MIN_SIZE = 3  # the frequency grid of an odd size n divides by n - 1


@dataclass(frozen=True)
class PhaseCongruency:
    """Per image of a stack: phase congruency ``pc``, maximum moment ``M`` (edges) and
    minimum moment ``m`` (corners) of the orientation covariance, N x H x W each."""

    pc: np.ndarray
    M: np.ndarray
    m: np.ndarray


def _centred_range(n: int) -> np.ndarray:
    """``myphasecong3``'s normalised frequencies: (-n/2 .. n/2-1)/n for even n,
    (-(n-1)/2 .. (n-1)/2)/(n-1) for odd n."""
    if n % 2:
        return np.arange(-(n - 1) / 2, (n - 1) / 2 + 1) / (n - 1)
    return np.arange(-n / 2, n / 2) / n


@dataclass(frozen=True)
class _Bank:
    """The log-Gabor bank of one image size: filters (S x O x H x W, frequency layout of
    ``fft2``) and per orientation the noise model's constants: the smallest-scale
    filter energy and the sums S2 = sum ifftFilt_s^2, S12 = sum_{s<t} ifftFilt_s ifftFilt_t."""

    filters: np.ndarray
    filter_energy: np.ndarray
    sum_squares: np.ndarray
    sum_cross: np.ndarray


@functools.lru_cache(maxsize=4)
def _bank(rows: int, cols: int) -> _Bank:
    """The filters of ``myphasecong3`` for a rows x cols image (cached per size)."""
    x, y = np.meshgrid(_centred_range(cols), _centred_range(rows))
    radius = np.sqrt(x ** 2 + y ** 2)
    radius[rows // 2, cols // 2] = 1.0
    theta = np.arctan2(-y, x)
    radius, theta = sfft.ifftshift(radius), sfft.ifftshift(theta)
    sin_t, cos_t = np.sin(theta), np.cos(theta)
    # low-pass 1 / (1 + (r / 0.45)^30) on lowpassfilter's own grid, fftshift-ed
    lx = (np.arange(1, cols + 1) - (cols // 2 + 1)) / cols
    ly = (np.arange(1, rows + 1) - (rows // 2 + 1)) / rows
    lx, ly = np.meshgrid(lx, ly)
    low_pass = sfft.fftshift(1.0 / (1.0 + (np.sqrt(lx ** 2 + ly ** 2) / 0.45) ** 30))
    filters = np.empty((SCALES, ORIENTATIONS, rows, cols))
    theta_sigma = math.pi / ORIENTATIONS / D_THETA_ON_SIGMA
    for s in range(SCALES):
        centre = 1.0 / (MIN_WAVELENGTH * MULT ** s)
        log_gabor = np.exp(-np.log(radius / centre) ** 2 / (2 * math.log(SIGMA_ON_F) ** 2))
        log_gabor = log_gabor * low_pass
        log_gabor[0, 0] = 0.0
        for o in range(ORIENTATIONS):
            angle = o * math.pi / ORIENTATIONS
            ds = sin_t * math.cos(angle) - cos_t * math.sin(angle)
            dc = cos_t * math.cos(angle) + sin_t * math.sin(angle)
            spread = np.exp(-np.abs(np.arctan2(ds, dc)) ** 2 / (2 * theta_sigma ** 2))
            filters[s, o] = log_gabor * spread
    spatial = sfft.ifft2(filters, axes=(2, 3)).real * math.sqrt(rows * cols)
    sum_squares = (spatial ** 2).sum(axis=(0, 2, 3))
    sum_cross = sum((spatial[i] * spatial[j]).sum(axis=(1, 2))
                    for i in range(SCALES) for j in range(i + 1, SCALES))
    filter_energy = (filters[0] ** 2).sum(axis=(1, 2))
    for array in (filters, filter_energy, sum_squares, sum_cross):
        array.flags.writeable = False
    return _Bank(filters, filter_energy, sum_squares, sum_cross)


@kernel
def _orientation_energy(responses: np.ndarray, energy: np.ndarray, sum_an: np.ndarray,
                        max_an: np.ndarray, smallest_power: np.ndarray) -> None:
    """One orientation's scale sums: the amplitude sum and maximum over scales, the
    energy sum_s (E_s MeanE + O_s MeanO - |E_s MeanO - O_s MeanE|) with the weighted
    mean phase (MeanE, MeanO) = (sumE, sumO) / (|(sumE, sumO)| + eps), and the smallest
    scale's |EO|^2 (for the noise median). ``responses`` is S x H x W x 2 (the real and
    imaginary parts of the complex responses). Row by row: each row's responses are
    first split into real and imaginary lines (in L1), so the loops along the row
    vectorise."""
    scales, rows, cols = responses.shape[0], responses.shape[1], responses.shape[2]
    even, odd = np.empty((scales, cols)), np.empty((scales, cols))
    mean_e, mean_o = np.empty(cols), np.empty(cols)
    for r in range(rows):
        for s in range(scales):
            z, e, o = responses[s, r], even[s], odd[s]
            for c in range(cols):
                e[c], o[c] = z[c, 0], z[c, 1]
        an, largest, value, power = sum_an[r], max_an[r], energy[r], smallest_power[r]
        e, o = even[0], odd[0]
        for c in range(cols):
            amplitude = math.sqrt(e[c] * e[c] + o[c] * o[c])
            mean_e[c], mean_o[c] = e[c], o[c]
            an[c], largest[c], power[c] = amplitude, amplitude, amplitude * amplitude
        for s in range(1, scales):
            e, o = even[s], odd[s]
            for c in range(cols):
                amplitude = math.sqrt(e[c] * e[c] + o[c] * o[c])
                mean_e[c] += e[c]
                mean_o[c] += o[c]
                an[c] += amplitude
                largest[c] = amplitude if amplitude > largest[c] else largest[c]
        for c in range(cols):
            x_energy = math.sqrt(mean_e[c] * mean_e[c] + mean_o[c] * mean_o[c]) + EPSILON
            mean_e[c], mean_o[c] = mean_e[c] / x_energy, mean_o[c] / x_energy
            value[c] = 0.0
        for s in range(scales):
            e, o = even[s], odd[s]
            for c in range(cols):
                value[c] += e[c] * mean_e[c] + o[c] * mean_o[c] \
                    - abs(e[c] * mean_o[c] - o[c] * mean_e[c])


@kernel
def _median(values: np.ndarray) -> float:
    """Median of non-negative doubles (the mean of the two middle ones for an even
    count, as MATLAB's ``median``): a radix selection on the top 16 bits of their bit
    patterns (ordered like the values), then a sort of the one or two buckets holding
    the middle ranks."""
    n = values.shape[0]
    bits = values.view(np.int64)
    counts = np.zeros(1 << 16, dtype=np.int64)
    for k in range(n):
        counts[bits[k] >> 48] += 1
    low_rank, high_rank = (n - 1) // 2, n // 2
    below, bucket = 0, 0
    while below + counts[bucket] <= low_rank:
        below += counts[bucket]
        bucket += 1
    last, covered = bucket, below + counts[bucket]
    while covered <= high_rank:
        last += 1
        covered += counts[last]
    candidates = np.empty(covered - below)
    m = 0
    for k in range(n):
        top = bits[k] >> 48
        if bucket <= top <= last:
            candidates[m] = values[k]
            m += 1
    candidates.sort()
    return (candidates[low_rank - below] + candidates[high_rank - below]) / 2.0


@kernel
def _spread_exponent(sum_an: np.ndarray, max_an: np.ndarray, out: np.ndarray) -> None:
    """(cutOff - width) g with width = sumAn / (maxAn + eps) / nscale: the exponent of the
    frequency-spread sigmoid (numpy's vectorised ``exp`` takes it from here)."""
    rows, cols = sum_an.shape
    for r in range(rows):
        for c in range(cols):
            out[r, c] = (CUT_OFF - sum_an[r, c] / (max_an[r, c] + EPSILON) / SCALES) * GAIN


@kernel
def _accumulate(energy: np.ndarray, sum_an: np.ndarray, spread: np.ndarray, threshold: float,
                cos_a: float, sin_a: float, total_energy: np.ndarray, total_an: np.ndarray,
                covariance: np.ndarray, first: bool) -> None:
    """Noise-thresholded energy of one orientation, weighted by the sigmoid
    1 / (1 + ``spread``) (``spread`` = e^((cutOff - width) g)), added to the totals, and
    its PC_o (cos, sin) to the covariance sums (covx^2, covy^2, covx covy)."""
    rows, cols = energy.shape
    for r in range(rows):
        for c in range(cols):
            e = max(energy[r, c] - threshold, 0.0)
            weighted = 1.0 / (1.0 + spread[r, c]) * e
            pc = weighted / sum_an[r, c]
            cx, cy = pc * cos_a, pc * sin_a
            if first:
                total_energy[r, c] = weighted
                total_an[r, c] = sum_an[r, c]
                covariance[0, r, c] = cx * cx
                covariance[1, r, c] = cy * cy
                covariance[2, r, c] = cx * cy
            else:
                total_energy[r, c] += weighted
                total_an[r, c] += sum_an[r, c]
                covariance[0, r, c] += cx * cx
                covariance[1, r, c] += cy * cy
                covariance[2, r, c] += cx * cy


def _noise_threshold(smallest_power: np.ndarray, bank: _Bank, o: int) -> float:
    """``myphasecong3``'s noise threshold T of orientation o (already divided by 1.7);
    ``smallest_power`` holds the smallest scale's |EO|^2."""
    mean_power = -_median(smallest_power.reshape(-1)) / math.log(0.5)
    noise_power = mean_power / bank.filter_energy[o]
    energy2 = 2 * noise_power * bank.sum_squares[o] + 4 * noise_power * bank.sum_cross[o]
    tau = math.sqrt(energy2 / 2)
    return (tau * math.sqrt(math.pi / 2) + NOISE_K * math.sqrt((2 - math.pi / 2) * tau ** 2)) / 1.7


@kernel
def _filtered_spectra(spectrum: np.ndarray, filters: np.ndarray, o: int, out: np.ndarray) -> None:
    """The image spectrum times each scale's filter of orientation o (S x H x W, complex),
    written into ``out`` (numpy's complex-times-real product converts the filters to
    complex first)."""
    scales, rows, cols = out.shape
    for s in range(scales):
        for r in range(rows):
            for c in range(cols):
                out[s, r, c] = spectrum[r, c] * filters[s, o, r, c]


def _inverse_fft2(spectra: np.ndarray) -> np.ndarray:
    """``ifft2`` over the last two axes by torch's FFT: on x86 builds that is MKL, about
    1.5x scipy's pocketfft on these 256 x 256 complex stacks (the responses are 60 % of
    phase congruency's time). On one thread, as every metric runs: torch would otherwise
    split the stack over all cores (slower on a busy machine, and not the one-core speed
    the benchmark compares). Imported here, so that importing the metrics does not import
    torch."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch.fft.ifft2(torch.from_numpy(spectra)).numpy()
    finally:
        torch.set_num_threads(threads)


def _image_phase_congruency(image: np.ndarray, bank: _Bank, pc: np.ndarray, M: np.ndarray,
                            m: np.ndarray) -> None:
    rows, cols = image.shape
    spectrum = sfft.fft2(image)
    energy, sum_an, max_an, spread = np.empty((4, rows, cols))
    smallest_power = np.empty((rows, cols))
    total_energy, total_an = np.empty((2, rows, cols))
    covariance = np.empty((3, rows, cols))
    filtered = np.empty((SCALES, rows, cols), dtype=np.complex128)
    for o in range(ORIENTATIONS):
        _filtered_spectra(spectrum, bank.filters, o, filtered)
        responses = _inverse_fft2(filtered)
        _orientation_energy(responses.view(np.float64).reshape(*responses.shape, 2), energy,
                            sum_an, max_an, smallest_power)
        angle = o * math.pi / ORIENTATIONS
        _spread_exponent(sum_an, max_an, spread)
        np.exp(spread, out=spread)
        _accumulate(energy, sum_an, spread, _noise_threshold(smallest_power, bank, o),
                    math.cos(angle), math.sin(angle), total_energy, total_an,
                    covariance, o == 0)
    np.divide(total_energy, total_an + EPSILON, out=pc)
    covx2 = covariance[0] / (ORIENTATIONS / 2)
    covy2 = covariance[1] / (ORIENTATIONS / 2)
    covxy = covariance[2] / ORIENTATIONS
    denom = np.sqrt(covxy ** 2 + (covx2 - covy2) ** 2) + EPSILON
    np.divide(covy2 + covx2 + denom, 2, out=M)
    np.divide(covy2 + covx2 - denom, 2, out=m)


def phase_congruency(x: np.ndarray) -> PhaseCongruency:
    """Phase congruency and its moments as ``myphasecong3`` computes them.

    Log-Gabor filters exp(-ln^2(r/f_s) / (2 ln^2 0.55)) times a low-pass
    1/(1 + (r/0.45)^30), f_s = 1/(3 * 2.1^(s-1)) for 4 scales, times an angular Gaussian
    (sigma = pi/6/1.2) around 6 orientations; EO = ifft2(fft2(I) filter). Per
    orientation: energy sum_s (E MeanE + O MeanO - |E MeanO - O MeanE|), minus the noise
    threshold T (median-based Rayleigh model, divided by 1.7 as in Liu's version),
    clipped at 0 and weighted by the frequency-spread sigmoid 1/(1 + e^(10(0.5 - width)));
    PC = sum_o weighted energy / (sum_o sum_s An + 1e-4). The moments use covxy / norient
    (Liu's version; Kovesi's current code differs): M, m = (covx2 + covy2 +- denom) / 2.

    Parameters
    ----------
    x : ndarray, N x H x W
        Images on the 0..255 scale (raw doubles).

    Returns
    -------
    PhaseCongruency
        ``pc`` (about 0..1), ``M`` and ``m``, each N x H x W.
    """
    n, rows, cols = x.shape
    bank = _bank(rows, cols)
    pc, M, m = np.empty((3, n, rows, cols))
    for i in range(n):
        _image_phase_congruency(np.asarray(x[i], dtype=np.float64), bank, pc[i], M[i], m[i])
    return PhaseCongruency(pc, M, m)


@kernel
def _correlation_sum(mask: np.ndarray, moments: np.ndarray) -> float:
    """sum over pixels of max_k corr_k, corr_k = (sigma_kF + C) / (sqrt(|sigma_k^2
    sigma_F^2|) + C) inside mask k and 0 outside, for the three masked maps k (A, B, max);
    ``moments`` holds the window means mu_F, E[F^2], then per map mu_k, E[k^2], E[kF]."""
    total = 0.0
    rows, cols = mask.shape[1], mask.shape[2]
    for r in range(rows):
        for c in range(cols):
            mu_f = moments[0, r, c]
            var_f = moments[1, r, c] - mu_f * mu_f
            best = 0.0
            for k in range(3):
                corr = 0.0
                if mask[k, r, c]:
                    mu = moments[2 + 3 * k, r, c]
                    var = moments[3 + 3 * k, r, c] - mu * mu
                    cov = moments[4 + 3 * k, r, c] - mu * mu_f
                    corr = (cov + CORRELATION_C) / (math.sqrt(abs(var * var_f)) + CORRELATION_C)
                best = corr if k == 0 else max(best, corr)
            total += best
    return total


@kernel
def _moment_planes(ya: np.ndarray, yb: np.ndarray, f: np.ndarray, first: np.ndarray,
                   masks: np.ndarray, planes: np.ndarray) -> None:
    """F, F^2 and per masked map k (Y_A, Y_B, Y_max = Y_A where ``first`` else Y_B; zero
    outside mask k) k, k^2, kF, into ``planes`` (11 x H x W), in one pass."""
    rows, cols = f.shape
    for r in range(rows):
        for c in range(cols):
            fv = f[r, c]
            planes[0, r, c], planes[1, r, c] = fv, fv * fv
            for k in range(3):
                y = ya[r, c] if k == 0 or (k == 2 and first[r, c]) else yb[r, c]
                x = y if masks[k, r, c] else 0.0
                planes[2 + 3 * k, r, c] = x
                planes[3 + 3 * k, r, c] = x * x
                planes[4 + 3 * k, r, c] = x * fv


def _correlation_share(ya: np.ndarray, yb: np.ndarray, f: np.ndarray, first: np.ndarray,
                       masks: np.ndarray, taps: np.ndarray) -> float:
    """Zhao's P_Y of one image: the local correlations of the masked maps Y_A, Y_B, Y_max
    (zero outside their masks) with Y_F (not masked), 11 x 11 Gaussian window,
    ``filter2 'same'`` (zero padding), E[xy] - E[x]E[y] moments; summed over pixels
    and divided by the number of mask_max pixels (NaN for none, 0/0 as the reference)."""
    planes = np.empty((11, *f.shape))
    _moment_planes(ya, yb, f, first, masks, planes)
    moments = filter2_same(planes, taps)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.float64(_correlation_sum(masks, moments)) / np.count_nonzero(masks[2])


def zhao_phase_congruency(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q_P, Zhao's phase-congruency fusion metric (Liu ``metricZhao``, MEFB ``Qp``).

    With :func:`phase_congruency` of A, B and F: the "max" source per pixel is A where
    PC_A > PC_B, else B (ties go to B), for PC and the moments M, m alike; masks are
    PC_A > 0.1, PC_B > 0.1, PC_max > 0.1. For each feature Y in (PC, M, m), with Y_A,
    Y_B, Y_max zeroed outside their masks and Y_F not masked, the local correlations of
    each with Y_F (11 x 11 Gaussian, sigma 1.5, zero-padded 'same', C = 1e-4) inside
    their masks, 0 outside, give P_Y = sum over pixels of their maximum / (number of
    mask_max pixels). Q_P = P_PC P_M P_m. NaN when no pixel has PC above 0.1 (0/0, as
    the reference).

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255 (raw values).

    Returns
    -------
    ndarray, N
        Dimensionless, about 0.3-0.75 on medical pairs; higher is better.

    References
    ----------
    .. [1] J. Zhao, R. Laganiere, Z. Liu, Int. J. Innovative Computing, Information and
       Control 3(6A), 1433-1447, 2007.
    .. [2] Z. Liu et al., "Objective assessment of multiresolution image fusion
       algorithms for context enhancement in night vision: a comparative study",
       IEEE TPAMI 34(1), 94-109, 2012.
    """
    pa, pb, pf = (phase_congruency(x) for x in (A, B, F))
    first = pa.pc > pb.pc
    taps = gaussian_taps(11, 1.5)
    result = np.ones(len(F))
    for i in range(len(F)):
        masks = np.stack([pa.pc[i] > FEATURE_THRESHOLD, pb.pc[i] > FEATURE_THRESHOLD,
                          np.where(first[i], pa.pc[i], pb.pc[i]) > FEATURE_THRESHOLD])
        for field in ("pc", "M", "m"):
            ya, yb, yf = (getattr(p, field)[i] for p in (pa, pb, pf))
            result[i] *= _correlation_share(ya, yb, yf, first[i], masks, taps)
    return result
