"""Downloads and archives are bounded by what is declared (issue 26): a Harvard archive
member larger than its manifest row is refused before it is decompressed (peak memory
measured), and a weight mirror that streams more than the declared size is cut off there
(bytes sent counted on a loopback server)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mmif_bench.datasets import harvard
from mmif_bench.download import FetchError
from mmif_bench.weights import WeightFile, fetch

TOP = f"Havard-Medical-Image-Fusion-Datasets-{harvard.COMMIT}"
BOMB = 512 << 20  # bytes of zeros behind a member named like a Harvard image


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MMIF_BENCH_DATA", raising=False)
    return tmp_path / "cache"


def _bomb(path: Path, member: str) -> None:
    """A zip (about 0.5 MB) whose ``member`` inflates to 512 MiB, written in 1 MiB blocks."""
    block = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(member, "w", force_zip64=True) as stream:
            for _ in range(BOMB // len(block)):
                stream.write(block)


PROBE = """
import json, resource, sys
from mmif_bench.datasets import harvard
from mmif_bench.download import FetchError
image = harvard.Image(**json.loads(sys.argv[2]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    harvard.fetch(sys.argv[1], images=[image])
    print("installed")
except FetchError as error:
    print(error)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.slow
def test_archive_member_larger_than_the_manifest_is_refused_unread(cache, tmp_path) -> None:
    import json

    image = harvard.Image("MRI-CT/CT/16003.png", "train", 12153, "0" * 64)
    archive = tmp_path / "harvard.zip"
    _bomb(archive, f"{TOP}/{image.published_as}")
    assert archive.stat().st_size < 2 << 20
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(archive), json.dumps(image.__dict__)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ))
    message, grown_mb = result.stdout.strip().splitlines()
    assert f"is {BOMB} bytes, the manifest's CT-MRI/CT/16003.png is 12153" in message, result
    assert "refused unread" in message
    assert int(grown_mb) < 32  # inflating the member would take 512 MB
    assert not (cache / "datasets" / "harvard").exists()


def test_folder_file_of_another_size_is_refused(cache, tmp_path) -> None:
    image = harvard.Image("MRI-CT/CT/16003.png", "train", 10, hashlib.sha256(b"x" * 10).hexdigest())
    (tmp_path / "mirror" / "CT-MRI" / "CT").mkdir(parents=True)
    (tmp_path / "mirror" / "CT-MRI" / "CT" / "16003.png").write_bytes(b"x" * 11)
    with pytest.raises(FetchError, match="is 11 bytes, the manifest's"):
        harvard.fetch(str(tmp_path / "mirror"), images=[image])


class _Endless(BaseHTTPRequestHandler):
    """Streams zeros, far more than any declared size, and counts what it sent."""

    sent = 0
    length = 64 << 20

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", str(self.length))
        self.end_headers()
        block = bytes(64 << 10)
        try:
            for _ in range(self.length // len(block)):
                self.wfile.write(block)
                type(self).sent += len(block)
        except OSError:
            pass  # the client hung up

    def log_message(self, *args) -> None:
        pass


def test_weight_download_stops_at_the_declared_size(cache) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        declared = WeightFile("Toy/model.pth", repository="someone/toy", commit="0" * 40,
                              path="model.pth", size=337_000, sha256="1" * 64)
        errors = fetch({"toy": {"weights": declared}}, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    assert len(errors) == 1 and "sent more than the declared 337000 bytes" in errors[0], errors
    assert _Endless.sent < 8 << 20  # of the 64 MiB offered


@pytest.mark.slow
def test_weight_archive_member_of_another_size_is_not_decompressed(served, cache) -> None:
    from mmif_bench.download import git_blob_id

    url, folder = served
    _bomb(folder / "Model.zip", "ckpt/model.data")
    declared = WeightFile("Toy-zip/model.data", repository="someone/toy", commit="0" * 40,
                          path="Model.zip", member="ckpt/model.data", size=500, sha256="2" * 64,
                          git_blob=git_blob_id(folder / "Model.zip"))
    errors = fetch({"toy": {"weights": declared}}, url)
    assert len(errors) == 1 and f"declares {BOMB} bytes, not the declared 500" in errors[0]
