"""Published result sets as rows: ``mmif-bench fetch results NAME`` verifies every file by
its git blob id and installs the set whole or not at all; ``run --published NAME`` scores
it exactly as ``--fused`` scores the same images, labelled as the authors' published
images."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import mmif_bench
from mmif_bench.cli import EXIT_FETCH, main
from mmif_bench.download import git_blob_id
from mmif_bench.published import declared_sets, installed, results_store
from mmif_bench.runner import RunConfig, _published_names

SHARED = Path(__file__).resolve().parents[2] / "shared"  # beside the repository


@pytest.fixture(scope="session")
def published_root() -> Path:
    """The authors' published result folders: ``$MMIF_BENCH_PUBLISHED``, else the
    ``published`` folder beside ``$MMIF_BENCH_WEIGHTS``, else ``../shared/published``."""
    weights = os.environ.get("MMIF_BENCH_WEIGHTS")
    default = (Path(weights).parent if weights else SHARED) / "published"
    root = Path(os.environ.get("MMIF_BENCH_PUBLISHED") or default)
    if not (root / "asfe-fusion" / "CT-MRI").is_dir():
        pytest.skip(f"published result folders not found at {root}; set MMIF_BENCH_PUBLISHED")
    return root


@pytest.fixture()
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MMIF_BENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _our_layout(authors: Path, target: Path) -> Path:
    """The authors' folder copied into a run's fused-folder layout, as a user would."""
    layout = declared_sets()["asfe-fusion"].layout
    for theirs, pair_type in layout.items():
        shutil.copytree(authors / theirs, target / pair_type)
    return target


def test_every_declared_set_names_its_source_and_files() -> None:
    for name, entry in declared_sets().items():
        assert len(entry.commit) == 40 and entry.repository and entry.bibtex.startswith("@")
        assert len(entry.files) == 72, name
        assert {Path(f).parts[0] for f in entry.files} == set(entry.layout)


def test_fetched_set_is_scored_exactly_as_the_same_folder_given_with_fused(
        published_root: Path, small_harvard: Path, user_cache: Path, tmp_path: Path) -> None:
    assert main(["fetch", "results", "asfe-fusion", "--from",
                 str(published_root / "asfe-fusion")]) == 0
    folder = installed("asfe-fusion")
    assert folder is not None and len(list(folder.rglob("*.png"))) == 72
    ours = _our_layout(published_root / "asfe-fusion", tmp_path / "ours")
    assert _published_names(RunConfig()) == ["asfe-fusion"]  # a default run includes it
    result = mmif_bench.run(dataset=str(small_harvard), methods=["mean"],
                            published=["asfe-fusion"], fused={"ours": ours},
                            out=tmp_path / "run")
    assert result.exit_code == 0
    scores = result.scores.set_index(["pair", "image", "metric"])
    published = scores[scores["method"] == "asfe-fusion"]["value"]
    assert len(published) == 6 * 13
    assert published.equals(scores[scores["method"] == "ours"]["value"])
    provenance = result.record["methods"]["asfe-fusion"]["provenance"]
    assert provenance["kind"] == "published images" and provenance["label"] == "ASFE-Fusion"
    assert "lossless" in provenance["detail"] and provenance["commit"].startswith("0db7b8a")
    assert result.record["methods"]["asfe-fusion"]["bibtex"].startswith("@article{gu2024asfe")
    board = (tmp_path / "run" / "leaderboard.md").read_text()
    assert "| ASFE-Fusion<sup>p</sup> |" in board
    assert "<sup>p</sup> the authors' published fused images" in board
    assert "gu2024asfe" in (tmp_path / "run" / "leaderboard.bib").read_text()


def test_a_tampered_file_is_refused_and_nothing_is_installed(
        published_root: Path, user_cache: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(published_root / "adafuse", mirror)
    victim = sorted((mirror / "SPECT-MRI").iterdir())[-1]
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    assert main(["fetch", "results", "adafuse", "--from", str(mirror)]) == EXIT_FETCH
    assert f"SPECT-MRI/{victim.name}" in capsys.readouterr().err
    assert installed("adafuse") is None and not (results_store() / "adafuse").exists()
    with pytest.raises(FileNotFoundError, match="mmif-bench fetch results adafuse"):
        mmif_bench.run(methods=["mean"], published=["adafuse"], out=tmp_path / "run")


def test_fetch_from_a_mirror_url(published_root: Path, user_cache: Path,
                                 served: tuple[str, Path]) -> None:
    url, www = served
    shutil.copytree(published_root / "adafuse", www / "Results")
    assert main(["fetch", "results", "adafuse", "--from", f"{url}/Results"]) == 0
    entry = declared_sets()["adafuse"]
    folder = installed("adafuse")
    assert folder is not None
    for relative, blob in entry.files.items():
        assert git_blob_id(folder / entry.installed_name(relative)) == blob


def test_a_mirror_without_a_file_installs_nothing(published_root: Path, user_cache: Path,
                                                  served: tuple[str, Path]) -> None:
    url, www = served
    shutil.copytree(published_root / "adafuse", www / "Results")
    next((www / "Results" / "PET-MRI").iterdir()).unlink()
    assert main(["fetch", "results", "adafuse", "--from", f"{url}/Results"]) == EXIT_FETCH
    assert installed("adafuse") is None


def test_list_results_names_each_set_and_its_fetch_command(
        user_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "results"]) == 0
    out = capsys.readouterr().out
    for name, entry in declared_sets().items():
        assert f"  {name} [not fetched: run 'mmif-bench fetch results {name}']: {entry.label}" in out
