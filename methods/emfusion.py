"""EMFusion: the enhanced medical fusion network, with its authors' TF1 CT-MRI weights."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from mmif_bench.method import Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .tf_layers import load_tf_variables, lrelu, reflect_conv, run_network
from .torchnet import DEVICE_OPTION, PublishedNetwork, min_max_stretch


def published_model(pair: str, archive_blob: str,
                    members: dict[str, tuple[int, str]] | None = None,
                    optional: bool = False) -> WeightFile:
    """The TF1 checkpoint ``3200.ckpt`` of the authors' ``{pair}.zip``, named by its
    .index, in the store as ``EMFusion-{pair}/``; ``members``: suffix -> (size, sha256)
    where known (each member is then found by its path in the archive, else by its file
    name)."""
    def member(suffix: str, companions: tuple[WeightFile, ...] = ()) -> WeightFile:
        name = f"3200.ckpt.{suffix}"
        size, sha256 = (members or {}).get(suffix, (None, ""))
        return WeightFile(f"EMFusion-{pair}/{name}", repository="hanna-xu/EMFusion",
                          commit="26ea2a17f778e7fdd6de7719669733d651793ce8", path=f"{pair}.zip",
                          member=f"models/3200/{name}" if members else name, size=size,
                          sha256=sha256, git_blob=archive_blob, licence="none stated",
                          optional=optional, companions=companions)

    return member("index", (member("data-00000-of-00001"), member("meta")))


WEIGHTS = published_model("CT-MRI", "97487a36687f9796d905f8b98d815b4a9fffe8d9", {
    "index": (2628, "c4fc7e0d6ceda621c11b21e0cea0901f375163ee2948caed91bc8bae462c7027"),
    "data-00000-of-00001": (
        3264288, "f679c823482411e98911045f23270d9bfbec57d783fc313bcdd9a21716f44908"),
    "meta": (624549, "cafe7d844e98036b217eaa40ca3e899860fc5406552a6ab3a4c9b7b89890a015")})
WEIGHTS_PET = published_model("PET-MRI", "23a5759b0820a274127654a782c32ebc189fdbcf",
                              optional=True)
WEIGHTS_SPECT = published_model("SPECT-MRI", "51363d1932cdf1287652f8127ed54191cab34718",
                                optional=True)
# the fusion network fnet/fuse: (scope, in, out); conv2..4 are dense (no conv5 exists)
LAYERS = (("conv1", 2, 32), ("conv2", 32, 32), ("conv3", 64, 32), ("conv4", 96, 32),
          ("conv6", 128, 64), ("conv7", 64, 32), ("conv8", 32, 1))
DENSE = ("conv2", "conv3", "conv4")
# modality -> option holding that pair type's model; only the CT-MRI model is published
# as a file this benchmark can fetch (PET-MRI.zip and SPECT-MRI.zip hold the others)
MODEL_OPTIONS = {"CT": "weights", "PET": "weights_pet", "SPECT": "weights_spect"}


class EMFusionNet(nn.Module):
    """EMFusion's fusion network ``fnet/fuse``, its layers named as the authors' scopes.

    Every convolution is 3 x 3 on a reflect padding with a leaky ReLU (0.2), except
    conv8, followed by ``tanh(x) / 2 + 0.5``. conv2-conv4 put their 32 new channels in
    front of their input (widths 32 -> 128). The auxiliary encoder-decoders of the
    checkpoint (``spatial_ED``, ``spectral_ED``) only serve the training losses.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fuse = nn.ModuleDict({name: reflect_conv(i, o) for name, i, o in LAYERS})

    @staticmethod
    def tf_names() -> dict[str, str]:
        """State-dict key -> variable name in the authors' checkpoint."""
        return {f"fuse.{name}.{param}": f"fnet/fuse/{name}/{tf_param}"
                for name, _, _ in LAYERS
                for param, tf_param in (("weight", "kernel"), ("bias", "bias"))}

    def forward(self, functional: torch.Tensor, mri: torch.Tensor) -> torch.Tensor:
        """N x 1 x H x W sources in [0, 1] -> fused N x 1 x H x W in (0, 1)."""
        x = torch.cat([functional, mri], dim=1)
        for name, _, _ in LAYERS[:-1]:
            out = lrelu(self.fuse[name](x))
            x = torch.cat([out, x], dim=1) if name in DENSE else out
        return torch.tanh(self.fuse["conv8"](x)) / 2 + 0.5


class EMFusion(PublishedNetwork):
    """EMFusion with the authors' published CT-MRI model.

    As the authors' test script (``test.py`` in ``CT-MRI.zip``) runs it: CT and MRI,
    gray, scaled to [0, 1] and stacked as channels [CT, MRI]; the network outputs the
    fused image directly; it is saved with a min-max stretch to [0, 255] (rounded half
    up). The method returns that 8-bit image / 255.

    Only the CT-MRI model is published as a file here, so the method declares
    ``modalities = ("CT",)``: MRI-PET and MRI-SPECT pairs are not applicable. The
    authors also publish PET-MRI and SPECT-MRI models (``PET-MRI.zip``,
    ``SPECT-MRI.zip``, optional declared files that ``mmif-bench fetch weights emfusion``
    fetches too); given as ``weights_pet`` / ``weights_spect`` (their
    ``3200.ckpt.index``) or found like ``weights``, those pair types apply too and
    ``fuse(..., modality="PET")`` uses them, on the luma of the functional image, if they
    hold the same ``fnet/fuse`` variables (refused, naming the file, otherwise). Those models
    and their test scripts were not available to check.

    Parameters
    ----------
    weights : path
        The CT-MRI checkpoint's ``3200.ckpt.index`` (its ``.data`` shard beside it);
        default ``EMFusion-CT-MRI/3200.ckpt.index`` in ``$MMIF_BENCH_WEIGHTS`` or the
        fetched store.
    weights_pet, weights_spect : path
        Optional PET-MRI / SPECT-MRI checkpoints (empty: ``EMFusion-PET-MRI/`` /
        ``EMFusion-SPECT-MRI/3200.ckpt.index`` where found, as for ``weights``; else
        none).
    device : str
        ``cpu`` (default), ``cuda`` or ``auto``.

    Notes
    -----
    Weights: hanna-xu/EMFusion (``CT-MRI.zip``: ``models/3200/``), no licence stated;
    research use, cite the paper, not redistributed here. Trained without supervision on
    Harvard CT-MRI pairs (one model per pair type).

    References
    ----------
    H. Xu and J. Ma, "EMFusion: An unsupervised enhanced medical image fusion network",
    Information Fusion 76, 177-186, 2021.
    """

    name = "emfusion"
    display_name = "EMFusion"
    modalities = ("CT",)
    weight_files = {"weights": WEIGHTS, "weights_pet": WEIGHTS_PET,
                    "weights_spect": WEIGHTS_SPECT}
    options = {
        "weights": Option("", f"EMFusion CT-MRI checkpoint .index; default ${WEIGHTS_ENV}/"
                          f"{WEIGHTS.name}", "path"),
        "weights_pet": Option("", "EMFusion PET-MRI checkpoint .index (optional)", "path"),
        "weights_spect": Option("", "EMFusion SPECT-MRI checkpoint .index (optional)", "path"),
        "device": DEVICE_OPTION,
    }
    bibtex: ClassVar[str] = """@article{xu2021emfusion,
  title   = {{EMFusion}: An Unsupervised Enhanced Medical Image Fusion Network},
  author  = {Xu, Han and Ma, Jiayi},
  journal = {Information Fusion},
  volume  = {76},
  pages   = {177--186},
  year    = {2021},
  doi     = {10.1016/j.inffus.2021.06.001}
}"""

    def load_weights(self) -> None:
        self.nets = {
            modality: load_tf_variables(EMFusionNet(), self.weight_path(key),
                                        EMFusionNet.tf_names(), self.name).to(
                self.device, memory_format=torch.channels_last)
            for modality, key in MODEL_OPTIONS.items()
            if key in self.weights_in_use()
        }
        self.modalities = tuple(self.nets)  # the pair types whose models were given

    def forward_pairs(self, a: np.ndarray, b: np.ndarray,
                      modality: str | None = None) -> np.ndarray:
        net = self.nets.get(modality or "CT")
        if net is None:
            raise ValueError(f"emfusion: no {modality}-MRI model loaded; pass its checkpoint "
                             f"as -o emfusion:{MODEL_OPTIONS.get(modality, 'weights')}=PATH")
        fused = run_network(net, [b, a], self.device, min_size=2)
        return np.stack([min_max_stretch(image) for image in fused]) / np.float32(255)
