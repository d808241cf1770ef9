"""Properties of the ported PyTorch networks (almfnet, matr, mufusion) that hold whatever
the weights: run on randomly initialised state dicts saved in the published layout, so
they need no data or weights; agreement with the authors is tests/test_reference_outputs."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from mmif_bench import create_method
from mmif_bench.methods import almfnet, gesenet, macan, matr, mcafusion, mufusion, prrgan
from mmif_bench.methods.torchnet import studio_luma_uint8
from mmif_bench.weights import MissingWeightsError

NETWORKS = {"almfnet": almfnet.ALMFNet, "matr": matr.MATRNet, "mufusion": mufusion.TwoFusionNet,
            "mcafusion": lambda: mcafusion.DataParallelLayout(mcafusion.MCAFusionNet()),
            "macan": macan.MACANNet, "gesenet": gesenet.GeSeNetNet,
            "prrgan": prrgan.PRRGANGenerator}
PLUGINS = {"almfnet": almfnet.ALMFnetFusion, "matr": matr.MATRFusion,
           "mufusion": mufusion.MUFusionFusion, "mcafusion": mcafusion.MCAFusion,
           "macan": macan.MACAN, "gesenet": gesenet.GeSeNet, "prrgan": prrgan.PRRGAN}
# an odd shape for the fully convolutional nets, >= 128 for MUFusion's patches
SHAPES = {"almfnet": (37, 53), "matr": (40, 56), "mufusion": (128, 132), "mcafusion": (37, 53),
          "macan": (37, 53), "gesenet": (38, 54), "prrgan": (37, 53)}
STUDIO_RANGE = ("mcafusion", "prrgan")  # read PET/SPECT as studio-range luma, CT as full range


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the CI machine's cores are shared
    yield
    torch.set_num_threads(threads)


def random_weights(folder: Path, name: str, edit=None) -> str:
    """A randomly initialised state dict of the network, saved as the authors save it."""
    torch.manual_seed(0)
    state = NETWORKS[name]().state_dict()
    if edit:
        edit(state)
    if name == "prrgan":  # a training checkpoint: the state dict is its "model"
        state = {"model": state, "epoch": 0, "args": argparse.Namespace(batch_size=1)}
    path = folder / f"{name}.pth"
    torch.save(state, path)
    return str(path)


def sources(shape: tuple[int, int], count: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((count, *shape), dtype=np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_output_is_8bit_in_unit_range_and_batch_equals_single(name, tmp_path):
    method = create_method(name, weights=random_weights(tmp_path, name))
    a, b = sources(SHAPES[name], 2), sources(SHAPES[name], 2, seed=1)
    batch = method.fuse_batch(a, b, modality="PET")
    assert batch.shape == a.shape and batch.dtype == np.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0
    np.testing.assert_array_equal(batch * 255, np.round(batch * 255))  # saved 8-bit levels
    np.testing.assert_array_equal(method.fuse(a[1], b[1], modality="PET"), batch[1])


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_a_file_that_is_not_the_published_state_dict_is_refused(name, tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match=f"{path}.*not the published {name} state dict"):
        create_method(name, weights=str(path))


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_missing_weights_name_the_file_and_the_fetch_command(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingWeightsError, match=f"mmif-bench fetch weights {name}") as error:
        create_method(name)
    assert PLUGINS[name].weight_files["weights"].name in str(error.value)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_device_option(name, tmp_path):
    weights = random_weights(tmp_path, name)
    with pytest.raises(ValueError, match="cpu, cuda, auto"):
        create_method(name, weights=weights, device="gpu")
    method = create_method(name, weights=weights, device="auto")
    assert method.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", STUDIO_RANGE)
def test_functional_images_are_read_as_studio_range_luma(name, tmp_path):
    method = create_method(name, weights=random_weights(tmp_path, name))
    a, b = sources((32, 32)), sources((32, 32), seed=1)
    studio = studio_luma_uint8(b) / np.float32(255.0)
    for modality in ("PET", "SPECT"):
        np.testing.assert_array_equal(method.fuse_batch(a, b, modality=modality),
                                      method.fuse_batch(a, studio, modality="CT"))
    assert not np.array_equal(method.fuse(a[0], b[0], modality="PET"),
                              method.fuse(a[0], b[0], modality="CT"))


def test_studio_range_luma_is_matlab_rgb2ycbcr():
    rgb = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [12, 200, 77]], dtype=np.float64)
    y = rgb @ [0.299, 0.587, 0.114] / 255.0
    expected = np.floor(16 + rgb @ [65.481, 128.553, 24.966] / 255 + 0.5)
    np.testing.assert_array_equal(studio_luma_uint8(y), expected)
    assert studio_luma_uint8(y).dtype == np.uint8


@pytest.mark.slow
def test_macan_swaps_red_and_blue_in_the_functional_luma_by_default(tmp_path):
    weights = random_weights(tmp_path, "macan")
    published, corrected = (create_method("macan", weights=weights, swap_red_blue=swap)
                            for swap in (True, False))
    a = sources((32, 32), 2)
    rgb = np.random.default_rng(2).integers(0, 256, (2, 32, 32, 3)).astype(np.float32) / 255
    fused = published.fuse_batch(a, rgb, modality="PET")
    np.testing.assert_array_equal(fused, corrected.fuse_batch(a, rgb[..., ::-1], modality="PET"))
    assert not np.array_equal(fused, corrected.fuse_batch(a, rgb, modality="PET"))
    y = torch.from_numpy(rgb).permute(0, 3, 1, 2)
    expected = 0.299 * y[:, 2:3] + 0.587 * y[:, 1:2] + 0.114 * y[:, 0:1]  # B, G, R as R, G, B
    torch.testing.assert_close(macan.functional_luma(y, True), expected, rtol=0, atol=0)


def test_macan_saves_with_a_per_image_stretch_and_truncation():
    fused = torch.tensor([[[0.2, 0.4], [0.5, 1.3]], [[0.1, 0.1001], [0.2, -0.1]]])
    np.testing.assert_array_equal(macan.stretch_and_truncate(fused),
                                  [[[0, 63], [95, 255]], [[127, 127], [255, 0]]])


def test_gesenet_draws_its_noise_as_torch_rand_like_after_manual_seed():
    torch.manual_seed(7)
    channels_last = torch.empty(1, 2, 5, 6).to(memory_format=torch.channels_last)
    expected = [torch.rand_like(channels_last), torch.rand_like(torch.empty(1, 32, 4, 2))]
    generator = torch.Generator().manual_seed(7)
    drawn = [gesenet.draw_uniform((1, 2, 5, 6), generator, channels_last=True),
             gesenet.draw_uniform((1, 32, 4, 2), generator)]
    for got, want in zip(drawn, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_gesenet_seed_option_and_even_sizes(tmp_path):
    weights = random_weights(tmp_path, "gesenet")
    a, b = sources((16, 20)), sources((16, 20), seed=1)
    first, again, other = (create_method("gesenet", weights=weights, seed=seed).fuse(a[0], b[0])
                           for seed in (0, 0, 1))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    with pytest.raises(ValueError, match="must be even"):
        create_method("gesenet", weights=weights).fuse(a[0, :15], b[0, :15])


def test_prrgan_fuses_the_two_sources_not_the_mri_with_itself(tmp_path):
    method = create_method("prrgan", weights=random_weights(tmp_path, "prrgan"))
    a, b = sources((24, 28)), sources((24, 28), seed=1)
    mri = torch.from_numpy(np.rint(a * 255) / 255)[:, None].float()
    with torch.inference_mode():
        # the released script's call: an image fused with itself is that image
        torch.testing.assert_close(method.net(mri, mri), mri, rtol=1e-6, atol=1e-6)
        other = torch.from_numpy(np.rint(b * 255) / 255)[:, None].float()
        torch.testing.assert_close(method.net(mri, other), method.net(other, mri), rtol=0, atol=0)
    fused = method.fuse(a[0], b[0], modality="CT")
    assert not np.array_equal(fused, prrgan.stretch_and_truncate(mri[:, 0])[0] / np.float32(255))


def test_mufusion_patches_are_the_authors_grid():
    corners = mufusion.patch_corners(256, 256)
    assert len(corners) == 9
    assert {i for i, _ in corners} == {j for _, j in corners} == {0, 124, 128}
    assert mufusion.patch_corners(128, 128) == [(0, 0)] * 4  # each patch counted, averaged


def test_mufusion_stretch_is_scipy_bytescale():
    fused = np.array([[-0.1, 0.0], [0.45, 0.9]])
    np.testing.assert_array_equal(mufusion.min_max_stretch(fused), [[0, 26], [140, 255]])
    assert mufusion.min_max_stretch(np.full((2, 2), 0.3)).max() == 0  # flat: no division


def test_mufusion_refuses_images_smaller_than_a_patch(tmp_path):
    method = create_method("mufusion", weights=random_weights(tmp_path, "mufusion"))
    with pytest.raises(ValueError, match="at least 128 x 128"):
        method.fuse(*sources((100, 200), 2))


def test_mufusion_precision_option(tmp_path):
    weights = random_weights(tmp_path, "mufusion")
    with pytest.raises(ValueError, match="float64 or float32"):
        create_method("mufusion", weights=weights, precision="half")
    assert create_method("mufusion", weights=weights).dtype == torch.float64  # the authors'
    assert create_method("mufusion", weights=weights, precision="float32").dtype == torch.float32


def test_mufusion_shifted_convolution_equals_torchs():
    conv = mufusion.ShiftedConv2d(32, 8, 3).double()
    x = torch.rand(2, 32, 11, 13, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, conv.weight, conv.bias)
    torch.testing.assert_close(conv(x), expected, rtol=1e-12, atol=1e-12)


def test_matr_saves_as_the_authors_uint8_cast():
    fused = torch.tensor([-5.3, -0.5, 76.9, 254.99]) / 255.0
    np.testing.assert_array_equal(matr.save_as_uint8(fused, wrap_negatives=True), [251, 0, 76, 254])
    np.testing.assert_array_equal(matr.save_as_uint8(fused, wrap_negatives=False), [0, 0, 76, 254])


def test_matr_wrap_negatives_option_turns_the_wrap_around_off(tmp_path):
    def darken(state):  # non-negative features times a large negative 1x1 conv: tanh ~ -1
        state["convolutional_out.conv1.weight"] = -100 * state["convolutional_out.conv1.weight"].abs()

    weights = random_weights(tmp_path, "matr", darken)
    a, b = sources((32, 32), 2)
    wrapped = create_method("matr", weights=weights).fuse(a, b)
    clipped = create_method("matr", weights=weights, wrap_negatives=False).fuse(a, b)
    # -254.x truncates to -254, which wraps to 2 (-255, exactly -1, to 1)
    assert set(np.unique(np.round(wrapped * 255))) <= {1.0, 2.0}
    np.testing.assert_array_equal(clipped, np.zeros_like(clipped))


def test_matr_adaptive_convolution_is_one_kernel_per_image():
    torch.manual_seed(0)
    conv = matr.AdaptiveConv2d(16, 16).eval()
    x = torch.rand(2, 16, 12, 20)
    with torch.no_grad():
        kernels = conv.kernels(x)
        for k in range(2):
            expected = torch.nn.functional.conv2d(x[k:k + 1], kernels[k], padding=1)
            torch.testing.assert_close(conv(x)[k:k + 1], expected, rtol=1e-5, atol=1e-5)


def test_fixed_buffers_are_built_as_the_published_files_hold_them(weights_dir):
    """The DCT bases and window position tables the ports build equal the buffers saved in
    the authors' files (which overwrite them on loading)."""
    paths = {"mcafusion": weights_dir / "MCAFusion-model_25.pth",
             "macan": weights_dir / "MACAN-test_checkpoint.pth"}
    if not all(path.is_file() for path in paths.values()):
        pytest.skip(f"MCAFusion/MACAN weights not in {weights_dir}")
    for name, path in paths.items():
        published = torch.load(path, map_location="cpu", weights_only=True)
        built = NETWORKS[name]().state_dict()
        buffers = [key for key in built if key.endswith(("dct_layer.weight", "rpe_biases",
                                                         "relative_position_index"))]
        assert buffers
        for key in buffers:
            torch.testing.assert_close(built[key], published[key], rtol=0, atol=0)
