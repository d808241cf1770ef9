"""Feature mutual information (FMI, Haghighat et al.) and the feature maps it is run on.

The reference is Haghighat's Fast-FMI code as MEFB (``metricsFMI``) and Tang
(``analysis_fmi``) carry it: 3 x 3 sliding windows over a feature map of each image,
per window the mutual information of the two window "pmfs" under Nelsen's Frechet-bound
copula, normalised by the marginal entropies. Definitions and traps:
``docs/metrics.md`` (canon) and the shared ``metric_canon.md`` section 1.

Functions: :func:`sobel_edge_map` (MATLAB ``edge(I)``), :func:`dct_features`,
:func:`wavelet_features`, :func:`feature_mutual_information` (the windowed score of
feature stacks) and the three measures :func:`edge_fmi`, :func:`dct_fmi`,
:func:`wavelet_fmi`.

References
----------
.. [1] M. B. A. Haghighat, A. Aghagolzadeh, H. Seyedarabi, "A non-reference image fusion
   metric based on mutual information of image features", Computers & Electrical
   Engineering 37(5), 744-756, 2011.
.. [2] M. Haghighat, M. A. Razian, "Fast-FMI: non-reference image fusion metric",
   Proc. 8th Int. Conf. Application of Information and Communication Technologies
   (AICT), 2014.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import fft as sfft

from .filters import filter3x3
from .jit import inline_kernel, kernel
from .wavelets import dwt2_symmetric

WINDOW = 3  # the reference's default w: 3 x 3 windows, (M - 2)(N - 2) of them
_CELLS = WINDOW * WINDOW
_EDGE_EPS = 100 * np.finfo(np.float64).eps  # MATLAB edge's direction tolerance
# Sobel kernels of MATLAB ``edge``: fspecial('sobel') / 8 and its transpose
_EDGE_Y = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]) / 8.0
_EDGE_X = _EDGE_Y.T.copy()


@kernel
def _thin(b: np.ndarray, bx: np.ndarray, by: np.ndarray, cutoff: float,
          out: np.ndarray) -> None:
    """MATLAB's Sobel thinning: an edge where b > cutoff and b is a peak across the
    dominant gradient direction (non-strict on the left/upper side, strict on the
    right/lower one; a neighbour outside the image passes)."""
    h, w = b.shape
    for r in range(h):
        for c in range(w):
            v = b[r, c]
            if not v > cutoff:
                out[r, c] = False
                continue
            ax, ay = abs(bx[r, c]), abs(by[r, c])
            across = (ax >= ay - _EDGE_EPS and (c == 0 or b[r, c - 1] <= v)
                      and (c == w - 1 or v > b[r, c + 1]))
            along = (ay >= ax - _EDGE_EPS and (r == 0 or b[r - 1, c] <= v)
                     and (r == h - 1 or v > b[r + 1, c]))
            out[r, c] = across or along


def sobel_edge_map(x: np.ndarray) -> np.ndarray:
    """MATLAB ``edge(I)`` with its defaults (Sobel, automatic threshold, thinning).

    bx, by are the correlations with ``[1 0 -1; 2 0 -2; 1 0 -1] / 8`` and its transpose
    (replicated border), b = bx^2 + by^2, cut-off 4 mean(b); a pixel is an edge where
    b exceeds the cut-off and is a local maximum of b across the dominant direction.
    Octave's ``edge`` and scikit-image's Sobel/Canny give other maps.

    Parameters
    ----------
    x : ndarray, N x H x W
        Images on the 0..255 scale (``edge`` is applied to the double image).

    Returns
    -------
    ndarray of bool, N x H x W
    """
    bx = filter3x3(x, _EDGE_X, "replicate")
    by = filter3x3(x, _EDGE_Y, "replicate")
    b = bx * bx + by * by
    out = np.empty(x.shape, dtype=np.bool_)
    for i in range(len(x)):
        _thin(b[i], bx[i], by[i], 4.0 * b[i].mean(), out[i])
    return out


def dct_features(x: np.ndarray) -> np.ndarray:
    """MATLAB ``dct2`` of each whole image: orthonormal 2-D DCT-II, same size."""
    return sfft.dctn(x, type=2, norm="ortho", axes=(1, 2))


def wavelet_features(x: np.ndarray) -> np.ndarray:
    """One level of MATLAB ``dwt2(I, 'dmey')`` tiled as [cA cH; cV cD], min-max
    rescaled to [0, 1] over the tiled array (``rerange``).

    MATLAB's default extension is half-point symmetric (PyWavelets ``'symmetric'``);
    the discrete Meyer filter has 62 taps, so each sub-band is floor((N + 61) / 2) wide.
    The coefficients are PyWavelets' bit for bit (:func:`metrics.wavelets.dwt2_symmetric`).
    """
    cA, (cH, cV, cD) = dwt2_symmetric(x, "dmey")
    tiled = np.concatenate([np.concatenate([cA, cH], axis=2),
                            np.concatenate([cV, cD], axis=2)], axis=1)
    lo = tiled.min(axis=(1, 2), keepdims=True)
    hi = tiled.max(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore"):  # a constant image: 0/0, NaN as in MATLAB
        return (tiled - lo) / (hi - lo)


@kernel
def _same(x: np.ndarray, y: np.ndarray) -> bool:
    for k in range(_CELLS):
        if x[k] != y[k]:
            return False
    return True


STAIRS = 2 * _CELLS - 1  # cells on a Frechet bound's staircase, at most
BLOCK = 4096  # windows per stage


@dataclass
class _Stages:
    """Scratch of the staged window computation for ``BLOCK`` windows: windows
    (F, A, B; 9 values column-major), pmfs and their logarithms, the windows that count 1,
    the staircase terms q, |q|, |1 - phi|, and per pass the coefficient of log|1 - phi|,
    the rest of the joint entropy, H_X + H_F and the value."""

    windows: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 3, _CELLS)))
    pmf: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 3, _CELLS)))
    logs: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 3, _CELLS)))
    equal: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2), dtype=np.bool_))
    q: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2, STAIRS)))
    log_q: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2, STAIRS)))
    log_rest: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2)))
    coefficient: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2)))
    base: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2)))
    entropies: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2)))
    values: np.ndarray = field(default_factory=lambda: np.empty((BLOCK, 2)))


@inline_kernel
def _same_as_normalised(x: np.ndarray, f: np.ndarray, lo: float, hi: float) -> bool:
    """Whether window x equals window f min-max normalised (all ones where f is constant):
    only possible where x holds exactly 0 and 1, or is all ones."""
    for k in range(_CELLS):
        if x[k] != (1.0 if hi == lo else (f[k] - lo) / (hi - lo)):
            return False
    return True


@kernel
def _window_pmfs(windows: np.ndarray, count: int, pmf: np.ndarray, logs: np.ndarray,
                 equal: np.ndarray) -> None:
    """Per window: the pmfs of F, A, B (min-max normalised, a constant window as all
    ones, divided by the sum; the range cancels, so x - min is divided by its sum:
    within an ulp of the reference's two divisions, and a single peak is exactly 1 as
    there), their entries again with 1 for 0 (whose logarithms numpy takes next), and
    whether A, B count 1: X equal to the F window the reference compares it with, or
    both windows constant."""
    bounds = np.empty((3, 2))
    for m in range(count):
        for t in range(3):
            x = windows[m, t]
            lo, hi = x[0], x[0]
            for k in range(1, _CELLS):
                lo, hi = min(lo, x[k]), max(hi, x[k])
            bounds[t, 0], bounds[t, 1] = lo, hi
            total = 0.0
            for k in range(_CELLS):
                pmf[m, t, k] = 1.0 if hi == lo else x[k] - lo
                total += pmf[m, t, k]
            for k in range(_CELLS):
                p = pmf[m, t, k] / total
                pmf[m, t, k] = p
                logs[m, t, k] = p if p != 0.0 else 1.0
        f, a, b = windows[m, 0], windows[m, 1], windows[m, 2]
        flat = bounds[:, 0] == bounds[:, 1]
        a_equal = _same(a, f)
        # the reference's A pass leaves the F window normalised unless A equalled it
        if a_equal:
            b_equal = _same(b, f)
        else:  # B can equal normalised F only with 0 and 1 as its extremes, or all ones
            b_equal = (bounds[2, 0] == 0.0 and bounds[2, 1] == 1.0
                       or flat[2] and bounds[2, 0] == 1.0) \
                and _same_as_normalised(b, f, bounds[0, 0], bounds[0, 1])
        equal[m, 0] = a_equal or (flat[0] and flat[1])
        equal[m, 1] = b_equal or (flat[0] and flat[2])


@inline_kernel
def _marginal(p: np.ndarray, log_p: np.ndarray, cdf: np.ndarray
              ) -> tuple[float, float, float, float, float]:
    """A window pmf's entropy, sum, CDF (into ``cdf``) and the CDF's sum, and its first
    two moments over the positions 1..9."""
    h, total, sum_cdf, e, e2, cumulative = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for k in range(_CELLS):
        h -= p[k] * log_p[k]
        cumulative = p[k] if k == 0 else p[k] + cumulative
        cdf[k] = cumulative
        total += p[k]
        sum_cdf += cumulative
        i = k + 1.0
        e += i * p[k]
        e2 += i * i * p[k]
    return h, total, sum_cdf, e, e2


@inline_kernel
def _bound_sum(cf: np.ndarray, cx: np.ndarray, upper: bool, rows: np.ndarray) -> float:
    """sum over i, j of min(P_F(i), P_X(j)) (upper Frechet bound) or of
    max(P_F(i) + P_X(j) - 1, 0) (lower bound): one running sum per i, so that the
    loop over i runs as vector lanes without a branch."""
    for i in range(_CELLS):
        rows[i] = 0.0
    for j in range(_CELLS):
        x = cx[j]
        if upper:
            for i in range(_CELLS):
                rows[i] += min(cf[i], x)
        else:
            for i in range(_CELLS):
                rows[i] += max(cf[i] + x - 1.0, 0.0)
    total = 0.0
    for i in range(_CELLS):
        total += rows[i]
    return total


@inline_kernel
def _x_steps(cx: np.ndarray, px: np.ndarray, lx: np.ndarray, upper: bool,
             x_bounds: np.ndarray, x_mass: np.ndarray, x_log: np.ndarray) -> None:
    """X's CDF steps in the order the staircase meets them, step k from
    ``x_bounds[k]`` to ``x_bounds[k + 1]``: (P_X(k - 1), P_X(k)] for the upper bound,
    mirrored (1 - P_X(j), 1 - P_X(j - 1)] with j = 8 - k for the lower one; their
    masses and log masses."""
    x_bounds[0] = 0.0 if upper else 1.0 - cx[_CELLS - 1]
    for k in range(_CELLS):
        j = k if upper else _CELLS - 1 - k
        if upper:
            x_bounds[k + 1] = cx[k]
        else:
            x_bounds[k + 1] = 1.0 - cx[j - 1] if j > 0 else 1.0
        x_mass[k], x_log[k] = px[j], lx[j]


@inline_kernel
def _staircase(f_bounds: np.ndarray, pf: np.ndarray, lf: np.ndarray, x_bounds: np.ndarray,
               x_mass: np.ndarray, x_log: np.ndarray, weight: float, rest: float,
               factor: float, rest_terms: float, q: np.ndarray,
               log_q: np.ndarray) -> tuple[float, float]:
    """The staircase: merge F's steps (``f_bounds[i]``, ``f_bounds[i + 1]``] with X's
    (:func:`_x_steps`), advancing the step that ends first (both on a tie); each cell
    of positive overlap gets q = phi overlap + (1 - phi) pF pX (into ``q``, |q| into
    ``log_q``) and moves its product term out of the closed form (``factor``,
    ``rest_terms``, returned). No branch on the data but the loop's end: a cell of no
    overlap is written and then overwritten by the next; NaN steps (a constant image's
    wavelet features) advance neither and add nothing."""
    i, k, n = 0, 0, 0
    for _ in range(STAIRS):
        f_hi, x_hi = f_bounds[i + 1], x_bounds[k + 1]
        overlap = min(f_hi, x_hi) - max(f_bounds[i], x_bounds[k])
        product = pf[i] * x_mass[k]
        value = weight * overlap + rest * product
        q[n] = value
        log_q[n] = abs(value) if value != 0.0 else 1.0
        kept = overlap > 0.0
        moved = rest * product if kept else 0.0
        factor += moved
        rest_terms += moved * (lf[i] + x_log[k])
        n += kept
        i += f_hi <= x_hi
        k += x_hi <= f_hi
        if i == _CELLS or k == _CELLS:
            break
    for s in range(n, STAIRS):
        q[s], log_q[s] = 0.0, 1.0
    return factor, rest_terms


@kernel
def _staircase_terms(pmf: np.ndarray, logs: np.ndarray, equal: np.ndarray, count: int,
                     q: np.ndarray, log_q: np.ndarray, log_rest: np.ndarray,
                     coefficient: np.ndarray, base: np.ndarray, entropies: np.ndarray) -> None:
    """Per window and pass (X = A, B against F): Nelsen's joint pmf
    phi dU + (1 - phi) pF pX, dU the rectangle masses of the upper Frechet bound
    min(P_F(i), P_X(j)) where the Pearson correlation c of the pmfs is >= 0
    (phi = c / corrUp), of the lower bound max(P_F(i) + P_X(j) - 1, 0) where c < 0
    (theta = c / corrLo). The masses lie on a staircase of at most 17 cells (the
    overlaps of the CDF steps, found by merging them); the product term's
    -sum q log|q| over all 81 cells has a closed form from the marginal entropies. So
    joint = coefficient log|1 - phi| + base - sum_staircase q log|q|: this stores the
    staircase q (and |q|, 1 for q = 0), |1 - phi| (1 for phi = 1), coefficient, base and
    H_X + H_F; numpy takes the logarithms next (``logs`` already holds log pmf). The
    F window's statistics are shared by both passes."""
    f_bounds, cx, rows = np.zeros(_CELLS + 1), np.empty(_CELLS), np.empty(_CELLS)
    cf = f_bounds[1:]  # F's CDF, after a 0
    x_bounds, x_mass, x_log = np.empty(_CELLS + 1), np.empty(_CELLS), np.empty(_CELLS)
    for m in range(count):
        pf, lf = pmf[m, 0], logs[m, 0]
        hf, sum_f, sum_cf, ef, e2f = _marginal(pf, lf, cf)
        mean_f, syy = sum_f / _CELLS, 0.0
        for k in range(_CELLS):
            df = pf[k] - mean_f
            syy += df * df
        sd_f = math.sqrt(e2f - ef * ef)
        for t in range(2):
            for s in range(STAIRS):
                q[m, t, s], log_q[m, t, s] = 0.0, 1.0
            log_rest[m, t], coefficient[m, t], base[m, t], entropies[m, t] = 1.0, 0.0, 0.0, 1.0
            if equal[m, t]:
                continue
            px, lx = pmf[m, 1 + t], logs[m, 1 + t]
            hx, sum_x, sum_cx, ex, e2x = _marginal(px, lx, cx)
            mean_x = sum_x / _CELLS
            sxy, sxx = 0.0, 0.0
            for k in range(_CELLS):
                df, dx = pf[k] - mean_f, px[k] - mean_x
                sxy += dx * df
                sxx += dx * dx
            c = 0.0 if sxy == 0.0 else sxy / math.sqrt(sxx * syy)
            sd_x = math.sqrt(e2x - ex * ex)
            upper = c >= 0.0
            weight = 0.0
            if sd_f != 0.0 and sd_x != 0.0 and c != 0.0:
                covariance = _bound_sum(cf, cx, upper, rows) - sum_cf * sum_cx
                weight = c / (covariance / (sd_f * sd_x))
            rest = 1.0 - weight
            factor, rest_terms = 0.0, 0.0
            if rest != 0.0:
                log_rest[m, t] = abs(rest)
                factor = -rest * sum_f * sum_x
                rest_terms = rest * (hf * sum_x + hx * sum_f)
            if weight != 0.0:
                _x_steps(cx, px, lx, upper, x_bounds, x_mass, x_log)
                factor, rest_terms = _staircase(f_bounds, pf, lf, x_bounds, x_mass, x_log,
                                                weight, rest, factor, rest_terms, q[m, t],
                                                log_q[m, t])
            coefficient[m, t], base[m, t], entropies[m, t] = factor, rest_terms, hx + hf


@kernel
def _window_values(equal: np.ndarray, count: int, q: np.ndarray, log_q: np.ndarray,
                   log_rest: np.ndarray, coefficient: np.ndarray, base: np.ndarray,
                   entropies: np.ndarray, values: np.ndarray) -> float:
    """fmi_XF = 2 MI / (H_X + H_F) per window and pass (1 where the windows count 1, 0
    where MI is exactly 0) into ``values``; returns the sum of (fmi_AF + fmi_BF) / 2."""
    total = 0.0
    for m in range(count):
        for t in range(2):
            if equal[m, t]:
                values[m, t] = 1.0
                continue
            joint = coefficient[m, t] * log_rest[m, t] + base[m, t]
            for s in range(STAIRS):
                joint -= q[m, t, s] * log_q[m, t, s]
            mi = entropies[m, t] - joint
            values[m, t] = 0.0 if mi == 0.0 else 2.0 * mi / entropies[m, t]
        total += (values[m, 0] + values[m, 1]) / 2.0
    return total


def _stage_windows(stages: _Stages, count: int) -> float:
    """fmi of the first ``count`` windows of ``stages.windows`` (F, A, B) into
    ``stages.values``; returns the sum of their (fmi_AF + fmi_BF) / 2. Three kernels,
    numpy's vectorised ``log`` between them (the scalar ones were 28 % of the time)."""
    st = stages
    _window_pmfs(st.windows, count, st.pmf, st.logs, st.equal)
    np.log(st.logs[:count], out=st.logs[:count])
    _staircase_terms(st.pmf, st.logs, st.equal, count, st.q, st.log_q, st.log_rest,
                     st.coefficient, st.base, st.entropies)
    np.log(st.log_q[:count], out=st.log_q[:count])
    np.log(st.log_rest[:count], out=st.log_rest[:count])
    return _window_values(st.equal, count, st.q, st.log_q, st.log_rest, st.coefficient,
                          st.base, st.entropies, st.values)


@kernel
def _extract_windows(a: np.ndarray, b: np.ndarray, f: np.ndarray, start: int, count: int,
                     windows: np.ndarray) -> None:
    """Windows start .. start + count - 1 (row-major over the (M-2) x (N-2) positions)
    of F, A and B, each as 9 values in column-major order."""
    columns = f.shape[1] - 2
    for m in range(count):
        r, c = (start + m) // columns, (start + m) % columns
        for dc in range(3):
            for dr in range(3):
                k = 3 * dc + dr
                windows[m, 0, k] = f[r + dr, c + dc]
                windows[m, 1, k] = a[r + dr, c + dc]
                windows[m, 2, k] = b[r + dr, c + dc]


def _image_fmi(a: np.ndarray, b: np.ndarray, f: np.ndarray, stages: _Stages) -> float:
    """Mean over all 3 x 3 windows of (fmi_AF + fmi_BF) / 2 for one feature triple."""
    h, w = f.shape
    windows = (h - 2) * (w - 2)
    total = 0.0
    for start in range(0, windows, BLOCK):
        count = min(BLOCK, windows - start)
        _extract_windows(a, b, f, start, count, stages.windows)
        total += _stage_windows(stages, count)
    return total / windows


def feature_mutual_information(A: np.ndarray, B: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Fast-FMI of feature stacks: mean over 3 x 3 windows of (fmi_AF + fmi_BF) / 2.

    Per window and source X: fmi_XF = 1 where the X and F windows are equal, and, as
    the reference decides it, where both windows are constant (its sequential mean of
    nine ninths is not 1/9, which makes the Pearson correlation exactly 1 there;
    numpy's pairwise mean would give 0 and fmi near 0). Otherwise each window is
    min-max normalised (a constant one to all ones) and divided by its sum to a pmf
    over its 9 positions in column-major order; with their CDFs, the Pearson
    correlation c of the two pmfs and their standard deviations as distributions over
    the positions 1..9, the joint pmf is Nelsen's mixture of the Frechet bound and the
    product, and fmi_XF = 2 MI / (H_X + H_F) in bits (0 where MI is exactly 0). The
    reference overwrites the F window by its normalised version in the A pass (unless
    A equalled it), and the B pass compares B with that window: where B equals the F
    window as it came but not as normalised, the pass is computed (its pmfs are the
    same: fmi 1 within rounding, 0 for a single peak, which the wavelet features'
    rounding noise makes in flat regions).

    Parameters
    ----------
    A, B, F : ndarray, N x H x W
        Feature maps of the first source, the second source and the fused image.

    Returns
    -------
    ndarray, N
        Values in [0, 1] (about, rounding aside); higher is better.
    """
    A, B, F = (np.ascontiguousarray(x, dtype=np.float64) for x in (A, B, F))
    stages = _Stages()
    return np.array([_image_fmi(a, b, f, stages) for a, b, f in zip(A, B, F)])


# ----------------------------------------------------------------- edge maps: a lookup table

_PAIR_VALUES = np.full((1 << _CELLS, 1 << _CELLS), np.nan)  # fmi of (source code, fused code)


def _fill_pairs(pairs: np.ndarray, table: np.ndarray) -> None:
    """fmi of each (source, fused) pair of binary windows, coded 9 source bits then 9
    fused bits (bit k: column-major position k), into ``table``."""
    stages = _Stages()
    bits = 1 << np.arange(_CELLS)
    for start in range(0, len(pairs), BLOCK):
        chunk = pairs[start:start + BLOCK]
        source, fused = chunk >> _CELLS, chunk & ((1 << _CELLS) - 1)
        stages.windows[:len(chunk), 0] = (fused[:, None] & bits) > 0
        stages.windows[:len(chunk), 1] = (source[:, None] & bits) > 0
        stages.windows[:len(chunk), 2] = stages.windows[:len(chunk), 1]
        _stage_windows(stages, len(chunk))
        table[source, fused] = stages.values[:len(chunk), 0]


def _window_codes(edges: np.ndarray) -> np.ndarray:
    """9-bit code of every 3 x 3 window of binary maps (bit k: column-major position k)."""
    _, h, w = edges.shape
    codes = np.zeros((len(edges), h - 2, w - 2), dtype=np.int64)
    for dc in range(3):
        for dr in range(3):
            codes |= edges[:, dr:dr + h - 2, dc:dc + w - 2].astype(np.int64) << (3 * dc + dr)
    return codes


def _binary_fmi(A: np.ndarray, B: np.ndarray, F: np.ndarray) -> np.ndarray:
    """:func:`feature_mutual_information` of binary maps: a window pair's fmi depends only
    on the two 3 x 3 bit patterns, so each distinct pair is computed once (and kept for
    the process in a 512 x 512 table) and the mean is a weighted sum over pairs."""
    fused = _window_codes(F)
    values = np.empty(len(F))
    for i in range(len(F)):
        pairs = [(_window_codes(X[i:i + 1])[0] << _CELLS) | fused[i] for X in (A, B)]
        counts = np.bincount(np.concatenate(pairs).ravel(), minlength=1 << 2 * _CELLS)
        present = np.flatnonzero(counts)
        table = _PAIR_VALUES.reshape(-1)
        missing = present[np.isnan(table[present])]
        if len(missing):
            _fill_pairs(missing, _PAIR_VALUES)
        values[i] = counts[present] @ table[present] / (2.0 * fused[i].size)
    return values


def edge_fmi(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """FMI on MATLAB Sobel edge maps: the reference's default feature (MEFB ``FMI``,
    Tang ``FMI_pixel``).

    FMI = mean over the (M-2)(N-2) 3 x 3 windows of (fmi_AF + fmi_BF) / 2 on the binary
    maps of :func:`sobel_edge_map` (:func:`feature_mutual_information`). The code's help
    says the default feature is 'none' (raw pixels); it is 'edge', so Tang's
    "FMI_pixel" is edge FMI. Equal windows (the black backgrounds) count 1, hence
    values of about 0.85 on medical pairs.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255.

    Returns
    -------
    ndarray, N
        Dimensionless, about [0, 1]; higher is better.

    References
    ----------
    .. [1] M. B. A. Haghighat, A. Aghagolzadeh, H. Seyedarabi, Computers & Electrical
       Engineering 37(5), 744-756, 2011.
    .. [2] M. Haghighat, M. A. Razian, Fast-FMI, AICT 2014.
    """
    return _binary_fmi(sobel_edge_map(A), sobel_edge_map(B), sobel_edge_map(F))


def dct_fmi(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """FMI on whole-image DCT coefficients (Tang ``FMI_dct``).

    :func:`feature_mutual_information` of :func:`dct_features` (``dct2`` of each image,
    windows sliding over the coefficient array as laid out). No window is ever equal,
    so every window is computed.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255.

    Returns
    -------
    ndarray, N
        Dimensionless, about [0, 1]; higher is better.

    References
    ----------
    .. [1] M. Haghighat, M. A. Razian, Fast-FMI, AICT 2014.
    """
    return feature_mutual_information(dct_features(A), dct_features(B), dct_features(F))


def wavelet_fmi(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """FMI on discrete Meyer wavelet coefficients (Tang ``FMI_w``).

    :func:`feature_mutual_information` of :func:`wavelet_features` (one level of
    ``dwt2(I, 'dmey')``, the four sub-bands tiled and rescaled to [0, 1]). Not
    computable in GNU Octave (no ``dmey``); follows MATLAB's ``dwt2`` definition.

    Parameters
    ----------
    F, A, B : ndarray, N x H x W
        Fused image, first source (MRI), second source, 0..255.

    Returns
    -------
    ndarray, N
        Dimensionless, about [0, 1]; higher is better.

    References
    ----------
    .. [1] M. Haghighat, M. A. Razian, Fast-FMI, AICT 2014.
    """
    return feature_mutual_information(wavelet_features(A), wavelet_features(B),
                                      wavelet_features(F))
