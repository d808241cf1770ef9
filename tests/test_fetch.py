"""``mmif-bench fetch`` against a real HTTP server on the loopback interface (stdlib
``http.server`` in a thread) serving archives and files built here: success, an
interrupted transfer, a hash mismatch refused with nothing installed, an unreachable host;
then the shipped manifest and registry against the real data and weights where present."""
from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mmif_bench import create_dataset, create_method
from mmif_bench.config import fetched_dataset
from mmif_bench.datasets import harvard
from mmif_bench.download import FetchError, git_blob_id
from mmif_bench.imageio import encode_png
from mmif_bench.registry import declared_weights
from mmif_bench.runner import RunConfig, run
from mmif_bench.weights import WeightFile, fetch, store_dir

TOP = f"Havard-Medical-Image-Fusion-Datasets-{harvard.COMMIT}"  # GitHub's archive folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache and no configured data or weights."""
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MMIF_BENCH_DATA", raising=False)
    monkeypatch.delenv("MMIF_BENCH_WEIGHTS", raising=False)
    return tmp_path / "cache"


def small_archive(corrupt: str | None = None) -> tuple[bytes, list[harvard.Image]]:
    """A zip in the published repository's layout (two pairs per pair type, one of them
    test) and its manifest; ``corrupt``: a file whose archived bytes are altered."""
    rng = np.random.default_rng(0)
    images, buffer = [], io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for other in ("CT", "PET", "SPECT"):
            for index, split in ((1, "train"), (2, "test")):
                for modality in ("MRI", other):
                    data = encode_png(rng.integers(0, 256, (24, 24), dtype=np.uint8))
                    image = harvard.Image(f"MRI-{other}/{modality}/{index}.png", split, len(data),
                                          hashlib.sha256(data).hexdigest())
                    images.append(image)
                    if image.file == corrupt:
                        data = data[:-1] + bytes([data[-1] ^ 1])
                    archive.writestr(f"{TOP}/{image.published_as}", data)
    return buffer.getvalue(), images


def test_fetch_installs_the_verified_pairs_where_harvard_finds_them(served, cache) -> None:
    url, folder = served
    data, images = small_archive()
    (folder / "harvard.zip").write_bytes(data)
    root = harvard.fetch(f"{url}/harvard.zip", images=images)
    assert root == fetched_dataset("harvard") and root.is_relative_to(cache)
    assert (root / "MRI-PET" / "PET" / "2.png").read_bytes().startswith(b"\x89PNG")
    assert (root / "MRI-SPECT" / "test.txt").read_text() == "2.png\n"
    dataset = create_dataset("harvard")  # no --data-root, no MMIF_BENCH_DATA: the fetched copy
    assert dataset.root == root
    assert sorted(p.key for p in dataset.list_pairs("test").pairs) == [
        "MRI-CT/2", "MRI-PET/2", "MRI-SPECT/2"]
    assert not any((cache / ".partial").iterdir())  # no scratch left behind


def test_an_interrupted_download_installs_nothing(served, cache) -> None:
    url, folder = served
    data, images = small_archive()
    (folder / "harvard.zip").write_bytes(data)
    with pytest.raises(FetchError, match="interrupted.*nothing was installed"):
        harvard.fetch(f"{url}/cut/harvard.zip", images=images)
    assert not fetched_dataset("harvard").exists()
    assert not any((cache / ".partial").iterdir())


def test_a_hash_mismatch_is_refused_and_keeps_the_installed_copy(served, cache) -> None:
    url, folder = served
    good, images = small_archive()
    (folder / "good.zip").write_bytes(good)
    bad, _ = small_archive(corrupt="MRI-SPECT/SPECT/1.png")
    (folder / "bad.zip").write_bytes(bad)
    with pytest.raises(FetchError, match=r"SPECT-MRI/SPECT/1\.png does not match the manifest"):
        harvard.fetch(f"{url}/bad.zip", images=images)
    assert not fetched_dataset("harvard").exists()
    root = harvard.fetch(f"{url}/good.zip", images=images)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(FetchError, match="refused, nothing was installed"):
        harvard.fetch(f"{url}/bad.zip", force=True, images=images)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


@pytest.mark.slow
def test_an_unreachable_host_is_one_line_naming_the_fix(cache, tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run([sys.executable, "-m", "mmif_bench", "fetch", "harvard", "--from",
                             f"http://127.0.0.1:{port}/harvard.zip"], cwd=tmp_path,
                            env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert result.returncode == 5
    error = [line for line in result.stderr.splitlines() if line.startswith("mmif-bench:")]
    assert len(error) == 1 and "cannot be reached" in error[0] and "--from" in error[0]
    assert not fetched_dataset("harvard").exists()


def _published(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def test_weights_are_verified_by_git_blob_id_and_archive_members(served, cache) -> None:
    url, folder = served
    plain = _published(folder, "model.pth", b"weights " * 1000)
    members = {"ckpt/model.index": b"index", "ckpt/model.data": b"data " * 100}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    zipped = _published(folder, "Model.zip", buffer.getvalue())
    row = dict(repository="someone/toy", commit="0" * 40)
    entries = [WeightFile("Toy/model.pth", path="models/model.pth",
                          git_blob=git_blob_id(plain), **row)]
    entries += [WeightFile(f"Toy-zip/{Path(name).name}", path="Model.zip", member=name,
                           git_blob=git_blob_id(zipped), **row) for name in members]

    def fetch_files(files: list[WeightFile], source: str) -> list[str]:
        return fetch({"toy": {f"option{i}": file for i, file in enumerate(files)}}, source)

    assert fetch_files(entries, url) == []
    assert (store_dir() / "Toy/model.pth").read_bytes() == plain.read_bytes()
    assert (store_dir() / "Toy-zip/model.data").read_bytes() == members["ckpt/model.data"]
    assert fetch_files(entries, url) == []  # verified in the store: kept
    (store_dir() / "Toy/model.pth").unlink()
    plain.write_bytes(b"tampered")
    errors = fetch_files(entries[:1], url)
    assert len(errors) == 1 and "git blob" in errors[0] and "refused" in errors[0]
    assert not (store_dir() / "Toy/model.pth").exists()


def test_git_blob_id_is_the_id_git_gives_the_file(tmp_path) -> None:
    path = _published(tmp_path, "x.bin", bytes(range(256)) * 3)
    git = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True)
    if git.returncode != 0:
        pytest.skip("git not available")
    assert git_blob_id(path) == git.stdout.strip()


def test_fetched_ifcnn_weights_make_ifcnn_run(served, cache, weights_dir) -> None:
    url, folder = served
    (folder / "IFCNN-MAX.pth").write_bytes((weights_dir / "IFCNN-MAX.pth").read_bytes())
    with pytest.raises(FileNotFoundError, match="mmif-bench fetch weights ifcnn"):
        create_method("ifcnn")
    (folder / "wrong").mkdir()
    (folder / "wrong" / "IFCNN-MAX.pth").write_bytes(b"not the published file")
    errors = fetch(declared_weights(["ifcnn"]), f"{url}/wrong")
    assert len(errors) == 1 and "sha256" in errors[0] and not (store_dir() / "IFCNN-MAX.pth").exists()
    assert fetch(declared_weights(["ifcnn"]), url) == []
    assert create_method("ifcnn").weight_path("weights") == store_dir() / "IFCNN-MAX.pth"


def test_the_fetched_copy_scores_what_the_data_scores(cache, harvard_root, tmp_path) -> None:
    """Fetching from a folder of the data (our layout) checks all 1620 images against the
    shipped manifest; a run on the fetched copy then scores exactly what the data scores."""
    root = harvard.fetch(str(harvard_root))
    assert len(harvard.manifest()) == 1620
    for pair in ("MRI-CT", "MRI-PET", "MRI-SPECT"):
        for split in ("train", "test"):
            shipped = sorted((root / pair / f"{split}.txt").read_text().split())
            assert shipped == sorted((harvard_root / pair / f"{split}.txt").read_text().split())
    common = {"methods": ["mean"], "metrics": ["EN", "SSIM"], "report": False}
    run(RunConfig(out=tmp_path / "fetched", **common))  # default: harvard
    run(RunConfig(dataset="harvard", data_root=harvard_root, out=tmp_path / "data", **common))
    assert (tmp_path / "fetched" / "scores.csv").read_bytes() == (
        tmp_path / "data" / "scores.csv").read_bytes()
    assert (tmp_path / "fetched" / "run.json").read_bytes() == (
        tmp_path / "data" / "run.json").read_bytes()
