"""Third-party plugins arrive through real entry points and behave like first-party ones."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mmif_bench
from mmif_bench import registry
from mmif_bench.registry import UnknownPluginError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "example-plugin"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """The example package installed (with its metadata) into a private folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(EXAMPLE)],
                   check=True, capture_output=True)
    assert list(target.glob("mmif_bench_example_plugin-*.dist-info"))
    return target


def _cli(args: list[str], plugin_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(plugin_path))
    return subprocess.run([sys.executable, "-m", "mmif_bench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True)


@pytest.mark.slow
def test_installed_plugin_is_listed_and_runs(plugin_path, tmp_path) -> None:
    listing = _cli(["list"], plugin_path, tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "weighted (from mmif-bench-example-plugin)" in listing.stdout
    assert "MAE_A ↓" in listing.stdout
    out = tmp_path / "out"
    result = _cli(["run", "--dataset", "phantom", "--methods", "weighted,mean",
                   "--option", "weighted:w=1.0", "--metrics", "EN,MAE_A", "--out", str(out),
                   "--no-report"], plugin_path, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = (out / "scores.csv").read_text().splitlines()
    # w = 1 returns the MRI: on gray pairs the saved image equals it (colour pairs add chroma)
    weighted_mae = [r for r in rows if r.startswith("weighted,phantom,MRI-CT,") and ",MAE_A," in r]
    assert weighted_mae and all(float(r.rsplit(",", 1)[1]) <= 0.5 for r in weighted_mae)
    assert any(r.startswith("mean,") for r in rows)


@pytest.mark.slow
def test_unknown_option_of_plugin_is_a_clear_error(plugin_path, tmp_path) -> None:
    result = _cli(["run", "--dataset", "phantom", "--methods", "weighted",
                   "--option", "weighted:weight=1", "--out", str(tmp_path / "o")], plugin_path, tmp_path)
    assert result.returncode == 2
    assert "method 'weighted' has no option 'weight'; its options: w" in result.stderr


def test_broken_plugin_is_reported_and_skipped(monkeypatch) -> None:
    registry.register("methods", "no_such_module_xyz:Thing", name="broken")
    loaded = registry.load_all("methods")
    assert "broken" not in loaded and "mean" in loaded and "max" in loaded
    assert "no_such_module_xyz" in registry.load_errors("methods")["methods:broken"]


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(UnknownPluginError, match="did you mean max"):
        mmif_bench.create_method("maxx")
    with pytest.raises(UnknownPluginError, match="did you mean harvard"):
        mmif_bench.create_dataset("harvad")


def test_create_method_validates_options() -> None:
    with pytest.raises(ValueError, match="has no option"):
        mmif_bench.create_method("mean", alpha=1)
    assert mmif_bench.create_method("max").name == "max"


def _scores(out: Path) -> dict[tuple[str, ...], str]:
    rows = [r.split(",") for r in (out / "scores.csv").read_text().splitlines()[1:]]
    return {tuple(r[:5]): r[5] for r in rows}


@pytest.mark.slow
def test_editing_an_installed_method_rescores_it(tmp_path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(EXAMPLE)],
                   check=True, capture_output=True)
    args = ["run", "--dataset", "phantom", "--methods", "weighted", "--metrics", "EN,SD",
            "--no-report", "--out"]
    assert _cli(args + ["same"], site, tmp_path).returncode == 0
    before = _scores(tmp_path / "same")
    module = site / "mmif_bench_example" / "__init__.py"
    source = module.read_text()
    edited = source.replace("return (w * a + (1.0 - w) * b).astype(np.float32)",
                            "return np.minimum(a, b).astype(np.float32)")
    assert edited != source
    module.write_text(edited)
    again = _cli(args + ["same"], site, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "fused 6 (cached 0)" in again.stderr
    fresh = _cli(args + ["fresh"], site, tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert _scores(tmp_path / "same") == _scores(tmp_path / "fresh") != before


@pytest.mark.slow
def test_default_run_leaves_out_a_broken_plugin_with_a_note(monkeypatch, tmp_path,
                                                            caplog) -> None:
    from mmif_bench.runner import RunConfig, configure

    registry.register("methods", "no_such_module_xyz:Thing", name="broken")
    with caplog.at_level(logging.INFO, logger="mmif_bench"):
        plan = configure(RunConfig(dataset="phantom", out=tmp_path / "o"))
    notes = [record.getMessage() for record in caplog.records]
    assert "broken" not in [m.name for m in plan.methods] and "mean" in [m.name for m in plan.methods]
    assert any(n.startswith("note: method broken left out:") and "no_such_module_xyz" in n
               for n in notes)
    with pytest.raises(ImportError, match="no_such_module_xyz"):  # asked for by name
        configure(RunConfig(dataset="phantom", methods=["broken"], out=tmp_path / "o"))


@pytest.mark.slow
def test_a_plugin_declaring_a_weight_file_gets_fetch_resolution_and_verification(
        plugin_path, served, tmp_path) -> None:
    """The example's ``learned`` method declares a weight file (no core edit): the run
    names the fetch command, ``fetch weights learned`` refuses a tampered copy and installs
    the published one, and the method then runs with it."""
    url, folder = served
    env = {"MMIF_BENCH_CACHE": str(tmp_path / "cache"), "MMIF_BENCH_WEIGHTS": ""}
    published = (EXAMPLE / "weights" / "mri-weight.txt").read_bytes()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mmif_bench", *args], cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=str(plugin_path), **env),
                              capture_output=True, text=True)

    run = ("run", "--dataset", "phantom", "--methods", "learned", "--metrics", "MAE_A",
           "--no-report", "--out", "out")
    missing = cli(*run)
    assert missing.returncode == 2
    assert "example/mri-weight.txt" in missing.stderr
    assert "mmif-bench fetch weights learned" in missing.stderr
    (folder / "tampered").mkdir()
    (folder / "tampered" / "mri-weight.txt").write_bytes(b"1.0\n")
    refused = cli("fetch", "weights", "learned", "--from", f"{url}/tampered")
    assert refused.returncode == 5 and "sha256" in refused.stderr, refused.stderr
    assert not (tmp_path / "cache" / "weights" / "example" / "mri-weight.txt").exists()
    (folder / "mri-weight.txt").write_bytes(published)
    fetched = cli("fetch", "weights", "learned", "--from", url)
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "cache" / "weights" / "example" / "mri-weight.txt").read_bytes() == published
    ran = cli(*run)
    assert ran.returncode == 0, ran.stderr
    record = json.loads((tmp_path / "out" / "run.json").read_text())["methods"]["learned"]
    assert record["weights"] == {"weights": {"file": "example/mri-weight.txt",
                                             "sha256": hashlib.sha256(published).hexdigest()}}
