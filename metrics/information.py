"""Information-theoretic metrics of the default profile: EN (bits) and MI (nats)."""
from __future__ import annotations

import numpy as np

from .histograms import entropy, gray_histograms, mutual_information
from .validation import checked


@checked("EN")
def fused_entropy(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """EN: Shannon entropy in bits of the 256-bin histogram of F rounded to 0..255.

    References
    ----------
    .. [1] J. W. Roberts, J. A. van Aardt, F. B. Ahmed, "Assessment of image fusion
       procedures using entropy, image quality, and multispectral classification",
       J. Appl. Remote Sens. 2(1), 023522, 2008.
    """
    return entropy(gray_histograms(F), base=2.0)


@checked("MI")
def fusion_mutual_information(F: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """MI: ``I(F; A) + I(F; B)`` in nats, one histogram bin per distinct pixel value.

    References
    ----------
    .. [1] G. Qu, D. Zhang, P. Yan, "Information measure for performance of image
       fusion", Electron. Lett. 38(7), 313-315, 2002.
    """
    return mutual_information(F, A) + mutual_information(F, B)
