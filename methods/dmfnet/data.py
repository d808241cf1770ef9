"""Training data of DM-FNet (He et al., TMM 2025): the Harvard train split of all three
pair types pooled, sources as Y in [-1, 1], random aligned crops and flips.

Only the ``train`` split is ever read. Sampling is a pure function of a torch.Generator, so
a seed (and the training step) reproduces every batch.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from mmif_bench.colour import split_source
from mmif_bench.registry import create_dataset


class PairCrops:
    """All train pairs held in memory (float16 Y in [-1, 1]).

    Parameters
    ----------
    data_root
        Folder with ``MRI-CT/``, ``MRI-PET/``, ``MRI-SPECT/`` (Harvard layout).
    """

    def __init__(self, data_root: str | Path) -> None:
        listing = create_dataset("harvard", data_root).list_pairs("train")
        if not listing.pairs:
            problems = "; ".join(map(str, listing.problems)) or "no pairs"
            raise FileNotFoundError(f"no training pairs under {data_root}: {problems}")
        self.keys = [pair.key for pair in listing.pairs]
        self.images: list[torch.Tensor] = []
        for pair in listing.pairs:
            a, b = (split_source(image.pixels)[0] for image in pair.load())
            self.images.append((torch.from_numpy(np.stack([a, b])) * 2 - 1).half())
        self.file_list_sha256 = hashlib.sha256("\n".join(self.keys).encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, pairs: int, crop: int, generator: torch.Generator,
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``pairs`` random pairs, each cropped at one random place and flipped alike.

        Returns
        -------
        a (MRI) and b (CT, or Y of PET/SPECT), each pairs x 1 x crop x crop float32.
        """
        out = []
        for index in torch.randint(len(self.images), (pairs,), generator=generator).tolist():
            image = self.images[index]
            h, w = image.shape[-2:]
            if min(h, w) < crop:
                raise ValueError(f"{self.keys[index]} is {w}x{h}, smaller than the crop {crop}")
            y = int(torch.randint(h - crop + 1, (1,), generator=generator))
            x = int(torch.randint(w - crop + 1, (1,), generator=generator))
            patch = image[:, y:y + crop, x:x + crop].float()
            flip_h, flip_v = (torch.rand(2, generator=generator) < 0.5).tolist()
            if flip_h:
                patch = patch.flip(-1)
            if flip_v:
                patch = patch.flip(-2)
            out.append(patch)
        batch = torch.stack(out)
        return batch[:, :1], batch[:, 1:]
