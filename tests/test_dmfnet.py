"""DM-FNet (issue 5): model shapes, paper sizes, loss terms, diffusion, exact resume, DDP,
plugin determinism and the shipped weights. Tiny configurations; the file runs in well
under a minute on 2 cores."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmif_bench.methods.dmfnet.diffusion import Diffusion, alpha_bar
from mmif_bench.methods.dmfnet.features import draw_noise, extract_features
from mmif_bench.methods.dmfnet.fusion_net import FusionNet
from mmif_bench.methods.dmfnet.loss import hybrid_loss, selective_ssim, sobel_magnitude
from mmif_bench.methods.dmfnet.plugin import DEFAULT_MODEL, DEFAULT_WEIGHTS, SHIPPED, DMFNetFusion
from mmif_bench.methods.dmfnet.presets import PAPER, TINY
from mmif_bench.methods.dmfnet.train import FINAL, LAST, Trainer, init_orthogonal, main
from mmif_bench.methods.dmfnet.unet import UNet

TINY_UNET = TINY.unet


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: on shared cores two OpenMP threads spin at barriers (10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_dataset(root: Path, size: int = 40, pairs: int = 3) -> Path:
    """A Harvard-shaped folder of random pairs (gray MRI/CT, RGB PET) with splits."""
    rng = np.random.default_rng(0)
    for pair_type, second in (("MRI-CT", "CT"), ("MRI-PET", "PET")):
        names = [f"{i:03d}.png" for i in range(pairs + 1)]
        for name in names:
            for modality in ("MRI", second):
                folder = root / pair_type / modality
                folder.mkdir(parents=True, exist_ok=True)
                shape = (size, size, 3) if modality == "PET" else (size, size)
                cv2.imwrite(str(folder / name), rng.integers(0, 256, shape, dtype=np.uint8))
        (root / pair_type / "train.txt").write_text("\n".join(names[:-1]) + "\n")
        (root / pair_type / "test.txt").write_text(names[-1] + "\n")
    return root


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("harvard-like"))


@pytest.fixture(scope="module")
def tiny_weights(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Stage II inference checkpoint of the tiny preset (2 + 2 steps)."""
    out = tmp_path_factory.mktemp("tiny-run")
    for stage in (1, 2):
        Trainer(TINY, stage, tiny_data, out, steps=2).run()
    return out / "stage2" / FINAL


# -- model --------------------------------------------------------------------------------
@pytest.mark.parametrize("h, w", [(16, 16), (32, 48), (64, 32)])
def test_unet_shapes(h: int, w: int) -> None:
    unet = UNet(TINY_UNET).eval()
    x, gamma = torch.zeros(2, 1, h, w), torch.rand(2)
    assert unet(x, gamma).shape == (2, 1, h, w)
    feats = unet(x, gamma, features=True)
    assert [f.shape[1] for f in feats] == TINY_UNET.feature_channels
    assert [f.shape[-2:] for f in feats] == [(h >> s, w >> s) for s in (4, 3, 2, 1, 0)]


def test_extract_features_and_fusion_shapes() -> None:
    unet, steps = UNet(TINY_UNET).eval(), (5, 10, 20)
    a, b = torch.zeros(3, 1, 32, 16), torch.ones(3, 1, 32, 16)
    gammas, noise = draw_noise(Diffusion("linear"), steps, a.shape, torch.Generator())
    assert gammas.shape == (3, 2, 3) and noise.shape == (3, 2, 3, 1, 32, 16)
    fa, fb = extract_features(unet, a, b, gammas, noise)
    assert [f.shape[1] for f in fa] == [3 * c for c in TINY_UNET.feature_channels]
    assert all(x.shape == y.shape and x.shape[0] == 3 for x, y in zip(fa, fb))
    fused = FusionNet(TINY_UNET.feature_channels, len(steps))(fa, fb)
    assert fused.shape == (3, 1, 32, 16) and fused.abs().max() <= 1


@pytest.mark.slow
def test_paper_parameter_counts() -> None:
    with torch.device("meta"):
        unet = UNet(PAPER.unet)
        head = FusionNet(PAPER.unet.feature_channels, len(PAPER.timesteps))
    assert PAPER.unet.feature_channels == [256, 128, 128, 128, 128]
    assert sum(p.numel() for p in unet.parameters()) == pytest.approx(20.7e6, rel=0.01)
    assert sum(p.numel() for p in head.parameters()) == pytest.approx(3.0e6, rel=0.02)


# -- diffusion ----------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_schedule_and_noise_levels(schedule: str) -> None:
    ab = alpha_bar(schedule, 2000)
    assert ab.shape == (2001,) and ab[0] == 1 and np.all(np.diff(ab) < 0) and ab[-1] < 0.01
    diffusion = Diffusion(schedule)
    gamma = diffusion.sample_gamma(1000, torch.Generator().manual_seed(0))
    assert gamma.min() >= 0 and gamma.max() <= 1
    assert torch.equal(gamma, diffusion.sample_gamma(1000, torch.Generator().manual_seed(0)))
    x0 = torch.rand(4, 1, 8, 8)
    assert torch.allclose(Diffusion.q_sample(x0, torch.ones(4), torch.randn(4, 1, 8, 8)), x0)


def test_one_t_per_batch_and_the_low_t_share() -> None:
    diffusion, s = Diffusion("cosine"), np.sqrt(alpha_bar("cosine"))
    batches = [diffusion.sample_gamma(8, torch.Generator().manual_seed(i), 0.5, 32).double()
               for i in range(40)]
    for gamma in batches:  # all 8 in the interval of one t
        t = int(np.searchsorted(-s, -gamma.min().item()))
        assert s[t] <= gamma.min() and gamma.max() <= s[t - 1]
    low = sum(bool(g.min() >= s[32]) for g in batches)
    assert 10 <= low <= 30  # about half the batches draw t in 1..32
    assert all(g.min() >= s[32] for g in (diffusion.sample_gamma(
        4, torch.Generator().manual_seed(i), 1.0, 32) for i in range(5)))


def test_feature_gammas_lie_in_their_step_intervals() -> None:
    diffusion, steps = Diffusion("linear"), (5, 10, 20)
    s = np.sqrt(alpha_bar("linear"))
    gammas, noise = draw_noise(diffusion, steps, (6, 1, 8, 8), torch.Generator(), noise=False)
    assert noise is None and gammas.shape == (3, 2, 6) and len(set(gammas.flatten().tolist())) == 36
    for t, g in zip(steps, gammas.double()):
        assert s[t] <= g.min() and g.max() <= s[t - 1]


def test_orthogonal_initialisation() -> None:
    torch.manual_seed(0)
    head = init_orthogonal(FusionNet(TINY_UNET.feature_channels, 3))
    for module in head.modules():
        if isinstance(module, torch.nn.Conv2d):
            w = module.weight.flatten(1)
            small = w if w.shape[0] <= w.shape[1] else w.T
            assert torch.allclose(small @ small.T, torch.eye(small.shape[0]), atol=1e-5)
            assert module.bias.abs().max() == 0


# -- loss ---------------------------------------------------------------------------------
def _images() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    a, b = (torch.rand(2, 1, 32, 32, generator=g) * 2 - 1 for _ in range(2))
    return a, b


def test_intensity_term_zero_at_max() -> None:
    a, b = _images()
    assert hybrid_loss(torch.maximum(a, b), a, b)["intensity"] == 0
    assert hybrid_loss(torch.minimum(a, b), a, b)["intensity"] > 0


def test_gradient_and_ssim_terms_zero_for_identical_images() -> None:
    a, _ = _images()
    terms = hybrid_loss(a, a, a)
    assert terms["gradient"] == 0 and terms["intensity"] == 0
    assert terms["ssim"] == pytest.approx(0, abs=1e-6)
    assert terms["total"] == pytest.approx(0, abs=1e-6)


def test_sobel_of_a_ramp() -> None:
    ramp = torch.arange(8.0).repeat(8, 1)[None, None]
    inner = sobel_magnitude(ramp)[..., 1:-1, 1:-1]
    assert torch.allclose(inner, torch.full_like(inner, 8.0))  # |gx| = 8 per unit slope
    flat = sobel_magnitude(torch.ones(1, 1, 8, 8))[0, 0]
    assert flat[1:-1, 1:-1].abs().max() == 0  # zero padding (the authors'): edges respond
    assert flat[0, 3] == 4 and flat[0, 0] == 6


def test_selective_ssim_follows_the_textured_source() -> None:
    a, _ = _images()
    flat = torch.zeros_like(a)
    assert selective_ssim(a, a, flat) == pytest.approx(1, abs=1e-6)  # F = the textured one
    assert selective_ssim(flat, a, flat) < 0.1  # a flat F misses A's structure
    assert hybrid_loss(flat, a, flat)["ssim"] > 0.4


# -- training -----------------------------------------------------------------------------
def _states_equal(x: dict, y: dict) -> bool:
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


@pytest.mark.slow
@pytest.mark.parametrize("stage", [1, 2])
def test_resume_is_exact(stage: int, tiny_data: Path, tiny_weights: Path, tmp_path: Path) -> None:
    unet = tiny_weights if stage == 2 else None
    once = Trainer(TINY, stage, tiny_data, tmp_path / "once", unet_path=unet)
    once.run()
    first = Trainer(TINY, stage, tiny_data, tmp_path / "split", unet_path=unet)
    first.run(until=2)
    second = Trainer(TINY, stage, tiny_data, tmp_path / "split", unet_path=unet)
    second.resume()
    assert second.step == 2
    second.run()
    assert _states_equal(once.model.state_dict(), second.model.state_dict())
    losses = lambda t: [r["total"] for r in t.history]  # noqa: E731
    assert losses(once) == losses(second)
    saved = torch.load(tmp_path / "split" / f"stage{stage}" / LAST, weights_only=True)
    assert saved["step"] == TINY.stage(stage).steps and "optimizer" in saved


@pytest.mark.slow
def test_resume_rejects_another_configuration(tiny_data: Path, tmp_path: Path) -> None:
    Trainer(TINY, 1, tiny_data, tmp_path).run(until=1)
    other = replace(TINY, seed=1)
    with pytest.raises(ValueError, match="another configuration"):
        Trainer(other, 1, tiny_data, tmp_path).resume()


@pytest.mark.slow
def test_cli_stops_and_resumes(tiny_data: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["--preset", "tiny", "--data-root", str(tiny_data), "--out", str(tmp_path)]
    assert main(["--stage", "1", *args, "--stop-at", "2"]) == 0
    assert not (tmp_path / "stage1" / FINAL).exists()
    assert main(["--stage", "1", *args, "--resume"]) == 0
    assert main(["--stage", "2", *args]) == 0
    final = torch.load(tmp_path / "stage2" / FINAL, weights_only=True)
    assert final["step"] == TINY.stage2.steps and {"unet", "fusion"} <= final.keys()
    monkeypatch.delenv("MMIF_BENCH_DATA", raising=False)
    assert main(["--stage", "1", "--preset", "tiny"]) == 2


DDP_WORKER = textwrap.dedent("""
    import sys, torch
    from mmif_bench.methods.dmfnet.presets import TINY
    from mmif_bench.methods.dmfnet.train import Distributed, Trainer
    data, out = sys.argv[1], sys.argv[2]
    env = Distributed("cpu")
    trainer = Trainer(TINY, 1, data, out, steps=3, env=env)
    trainer.run()
    torch.save(trainer.model.state_dict(), f"{out}/rank{env.rank}.pt")
    env.close()
""")


@pytest.mark.slow
def test_ddp_two_processes_gloo(tiny_data: Path, tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(DDP_WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                    "--standalone", str(worker), str(tiny_data), str(tmp_path)],
                   check=True, env=env, timeout=120, capture_output=True)
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert _states_equal(rank0, rank1)
    initial = UNet(TINY_UNET).state_dict()
    assert not _states_equal(rank0, initial)
    assert torch.load(tmp_path / "stage1" / LAST, weights_only=True)["config"]["world_size"] == 2


# -- plugin -------------------------------------------------------------------------------
@pytest.mark.parametrize("h, w", [(37, 50), (64, 64), (17, 33)])
def test_plugin_pads_and_crops(tiny_weights: Path, h: int, w: int) -> None:
    rng = np.random.default_rng(h)
    a, b = rng.random((h, w), dtype=np.float32), rng.random((h, w), dtype=np.float32)
    fused = DMFNetFusion(weights=str(tiny_weights)).fuse(a, b)
    assert fused.shape == (h, w) and fused.dtype == np.float32
    assert fused.min() >= 0 and fused.max() <= 1


@pytest.mark.slow
def test_plugin_is_deterministic_and_batch_independent(tiny_weights: Path) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 32, 32), dtype=np.float32), rng.random((3, 32, 32), dtype=np.float32)
    method = DMFNetFusion(weights=str(tiny_weights), seed=7, batch=2)
    batch = method.fuse_batch(a, b)
    again = DMFNetFusion(weights=str(tiny_weights), seed=7, batch=2).fuse_batch(a, b)
    assert np.array_equal(batch, again)
    singles = np.stack([method.fuse(x, y) for x, y in zip(a, b)])
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    other = DMFNetFusion(weights=str(tiny_weights), seed=8).fuse_batch(a, b)
    assert not np.array_equal(batch, other)


def test_plugin_rejects_a_stage1_checkpoint(tiny_weights: Path) -> None:
    with pytest.raises(ValueError, match="not a Stage II"):
        DMFNetFusion(weights=str(tiny_weights.parents[1] / "stage1" / FINAL))


def test_shipped_weights_fuse_a_harvard_pair(harvard_root: Path) -> None:
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip(f"no shipped weights at {DEFAULT_WEIGHTS}")
    from mmif_bench.colour import split_source
    from mmif_bench.registry import create_dataset
    pair = create_dataset("harvard", harvard_root).list_pairs("test").pairs[0]
    a, b = (split_source(image.pixels)[0] for image in pair.load())
    fused = DMFNetFusion().fuse(a, b)
    assert fused.shape == a.shape and fused.min() >= 0 and fused.max() <= 1
    assert fused.std() > 0.05


def test_rows_name_the_model_that_produced_them(tmp_path: Path) -> None:
    """The shipped default, a shipped model by name, a user's copy of a checkpoint: each
    labelled with its preset and source, sizes and steps set against the paper's."""
    default = DMFNetFusion().provenance()
    assert default["kind"] == "trained here"
    assert default["label"] == f"DM-FNet ({DEFAULT_MODEL}, trained here)"
    assert "630,000 + 221,400" in default["detail"]
    named = DMFNetFusion(weights="cpu32").provenance()
    assert named["label"] == "DM-FNet (cpu32, trained here)"
    assert "UNet 0.90 M + fusion network 0.21 M" in named["detail"]
    copy = tmp_path / "mine.pt"
    copy.write_bytes((SHIPPED / "dmfnet_cpu32.pt").read_bytes())
    mine = DMFNetFusion(weights=str(copy)).provenance()
    assert (mine["kind"], mine["label"]) == ("user weights", "DM-FNet (cpu32, mine.pt)")
