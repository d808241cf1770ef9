"""Compiled per-pixel kernels for the metrics: the decorators and the log-sum helpers.

The metrics' per-pixel algebra (local variances, gains, ratios) chains a dozen
element-wise steps; as numpy calls each step is a pass over memory, and those passes
cost more than the filtering that feeds them. A :func:`kernel` (numba ``njit``) runs
the whole chain per pixel in one pass, in float64 with the same operations in the same
order as the numpy expression it replaces, without fast-math: the same roundings, so
where the numpy code compares values for equality the kernel decides alike. Linear
filters use :data:`fma_kernel`, which may fuse a multiply and an add into one FMA
instruction (one rounding instead of two: about 1e-16 relative per tap, and the
filter runs about 15 % faster); image sums use :data:`sum_kernel`, which may
reassociate additions, so that a sum over pixels runs as several vector lanes (like
numpy's pairwise sums, a different order of the same terms). Compiled code
is cached on disk (``cache=True``, numba's cache next to this package or in the user
cache), so only the first process on a machine pays the compilation (about 9 s for
all kernels on the 2-core development machine; loading them takes 0.3 s). The cache
is keyed on each kernel's source file: after editing the options here, delete the
``*.nbi``/``*.nbc`` files in ``metrics/__pycache__``.

Division follows IEEE 754 as numpy does (``error_model="numpy"``: x / 0 is inf or
NaN, no exception and no zero test in the loop, which would keep it from vectorising).
Transcendental functions stay with numpy where they dominate (its ``exp``, ``arctan``
and ``log10`` are vectorised; numba calls the scalar C library): :func:`times` and
:func:`log10_product` sum logarithms as a running product with one logarithm at the end.

References
----------
.. [1] S. K. Lam, A. Pitrou, S. Seibert, "Numba: a LLVM-based Python JIT compiler",
   Proc. Second Workshop on the LLVM Compiler Infrastructure in HPC, 2015.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numba

Kernel = Callable[[Callable], Callable]


def _compiled(**options: object) -> Kernel:
    """A numba ``njit`` decorator with the metrics' options, caching compiled code on disk
    where numba finds a writable place (next to the module, else the user cache), else
    compiling in every process instead of failing at import."""
    options = {"nogil": True, "boundscheck": False, "error_model": "numpy", **options}

    def decorate(fn: Callable) -> Callable:
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(fn)
    return decorate


kernel = _compiled()
fma_kernel = _compiled(fastmath={"contract"})
sum_kernel = _compiled(fastmath={"reassoc"})
inline_kernel = _compiled(inline="always")  # a kernel's helper: no call, no reference counts

_RENORMALISE = 2.0 ** 600  # a product above this is split into mantissa and exponent
_LARGE_FACTOR = 2.0 ** 400  # and so is a factor above this, before it multiplies
_LOG10_2 = math.log10(2.0)


@kernel
def log10_product(product: float, exponent: int) -> float:
    """``log10(product * 2**exponent)`` for a running product kept by :func:`times`."""
    return (math.log2(product) + exponent) * _LOG10_2


@kernel
def times(product: float, exponent: int, factor: float) -> tuple[float, int]:
    """Multiply a running product ``product * 2**exponent`` by ``factor`` (>= 1, finite),
    keeping ``product`` below 2**600 (``math.frexp``; a factor above 2**400 is split the
    same way first) so it cannot overflow. With :func:`log10_product` this gives
    ``sum(log10(factor))`` with one logarithm in the end instead of one per factor; the
    product's rounding adds about 1e-16 per factor to the sum's relative error."""
    if factor > _LARGE_FACTOR:
        mantissa, power = math.frexp(factor)
        factor, exponent = mantissa, exponent + power
    product *= factor
    if product > _RENORMALISE:
        mantissa, power = math.frexp(product)
        return mantissa, exponent + power
    return product, exponent
