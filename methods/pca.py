"""PCA-weighted average fusion."""
from __future__ import annotations

import numpy as np

from mmif_bench.method import Method

from .rules import to_unit


def pca_weights(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weights ``(w_a, w_b)`` of N pairs (N x H x W stacks): the principal eigenvector of
    each pair's 2 x 2 covariance, taken in absolute value and scaled to sum 1.

    Pairs without variance (constant images) get equal weights. Returns an N x 2 array.
    """
    x = a.reshape(len(a), -1).astype(np.float64)
    y = b.reshape(len(b), -1).astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    cov = np.empty((len(a), 2, 2))
    cov[:, 0, 0] = (x * x).mean(axis=1)
    cov[:, 1, 1] = (y * y).mean(axis=1)
    cov[:, 0, 1] = cov[:, 1, 0] = (x * y).mean(axis=1)
    _, vectors = np.linalg.eigh(cov)  # eigenvalues ascending: last column is principal
    principal = np.abs(vectors[:, :, -1])
    weights = principal / principal.sum(axis=1, keepdims=True)
    flat = cov[:, 0, 0] + cov[:, 1, 1] <= 0.0
    weights[flat] = 0.5
    return weights


class PCAFusion(Method):
    """Weighted average with weights from principal component analysis.

    The two sources are treated as two variables; the principal eigenvector
    ``v`` of their 2 x 2 covariance matrix gives the weights
    ``w = |v| / sum(|v|)``, and ``F = w_a A + w_b B``. There are no parameters.

    Notes
    -----
    Taking ``|v|`` keeps the weights in [0, 1] when the sources are negatively
    correlated (the paper assumes positive correlation, where ``v`` has one sign).

    References
    ----------
    V. P. S. Naidu and J. R. Raol, "Pixel-level image fusion using wavelets and
    principal component analysis", Defence Science Journal 58(3), 338-352, 2008.
    """

    name = "pca"
    display_name = "PCA"
    bibtex = """@article{naidu2008pca,
  author  = {Naidu, V. P. S. and Raol, J. R.},
  title   = {Pixel-level image fusion using wavelets and principal component analysis},
  journal = {Defence Science Journal},
  volume  = {58},
  number  = {3},
  pages   = {338--352},
  year    = {2008},
  doi     = {10.14429/dsj.58.1653}
}"""

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return self.fuse_batch(a[None], b[None])[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        w = pca_weights(a, b).astype(np.float32)
        return to_unit(w[:, 0, None, None] * a + w[:, 1, None, None] * b)
