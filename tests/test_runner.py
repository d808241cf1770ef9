"""The runner end to end on real data: outputs, cache reuse, isolation, determinism."""
from __future__ import annotations

import json
import shutil

import pytest
from bad_inputs import build_bad_dataset
from failing_methods import FAILING

import mmif_bench
from mmif_bench.runner import EXIT_NOTHING, EXIT_OK, EXIT_PARTIAL, RunConfig, run
from mmif_bench.scores import read_scores


def _config(root, out, **kw) -> RunConfig:
    kw.setdefault("methods", ["mean", "max"])
    kw.setdefault("metrics", ["EN", "SD"])
    return RunConfig(dataset="harvard", data_root=root, out=out, report=False, **kw)


def test_harvard_run_writes_outputs_and_reuses_cache(harvard_root, tmp_path) -> None:
    out = tmp_path / "T"
    first = run(_config(harvard_root, out))
    assert first.exit_code == EXIT_OK and first.pairs == 72
    assert first.fused_now == 144 and first.scored_now == 144
    scores = read_scores(out / "scores.csv")
    assert len(scores) == 72 * 2 * 2
    assert {s.pair for s in scores} == {"MRI-CT", "MRI-PET", "MRI-SPECT"}
    assert (out / "fused" / "max" / "MRI-PET" / "25015.png").is_file()
    info = json.loads((out / "run.json").read_text())
    assert info["dataset"]["name"] == "harvard" and len(info["pairs"]) == 72
    before = (out / "scores.csv").read_bytes()
    second = run(_config(harvard_root, out))
    assert second.fused_now == 0 and second.fused_cached == 144
    assert second.scored_now == 0 and second.scored_cached == 144
    assert (out / "scores.csv").read_bytes() == before


def test_corrupt_cache_entry_is_recomputed(harvard_root, tmp_path) -> None:
    out = tmp_path / "T"
    config = _config(harvard_root, out, methods=["max"], split="test")
    run(config)
    before = (out / "scores.csv").read_bytes()
    entries = sorted(p for p in (out / ".cache").rglob("*") if p.is_file())
    for entry in entries[:5]:
        data = bytearray(entry.read_bytes())
        data[-1] ^= 0xFF
        entry.write_bytes(bytes(data))
    again = run(config)
    assert again.fused_now + again.scored_now >= 1
    assert (out / "scores.csv").read_bytes() == before


def test_option_change_invalidates_cache(tmp_path) -> None:
    from failing_methods import Slow

    mmif_bench.register("methods", Slow)
    out = tmp_path / "T"
    base = dict(dataset="phantom", methods=["slow"], metrics=["EN"], out=out, report=False)
    run(RunConfig(method_options={"slow": {"delay": 0.0}}, **base))
    again = run(RunConfig(method_options={"slow": {"delay": 0.001}}, **base))
    assert again.fused_now == 6 and again.fused_cached == 0


def test_bad_pairs_are_skipped_and_good_ones_run(harvard_root, tmp_path) -> None:
    data = tmp_path / "data"
    cases = build_bad_dataset(harvard_root, data)
    snapshot = sorted(p.relative_to(data) for p in data.rglob("*"))
    out = tmp_path / "out"
    summary = run(RunConfig(dataset=str(data), split="all", methods=["mean", "max"],
                            metrics=["EN", "SD", "SSIM"], out=out, report=False))
    assert summary.exit_code == EXIT_PARTIAL
    info = json.loads((out / "run.json").read_text())
    skipped = "\n".join(f"{s['where']}: {s['message']}" for s in info["skipped"])
    for stem in cases.values():
        assert f"{stem}.png" in skipped, stem
    assert "smaller than the metrics'" in skipped
    ran = {s.image for s in read_scores(out / "scores.csv")}
    assert ran == {"16009", "16010", "sixteen_bit", "rgba", "palette"}
    notes = "\n".join(info["notes"])  # the conversion rules applied, as imageio promises
    for needle in ("sixteen_bit.png: 16-bit image mapped to 8 bit", "rgba.png: alpha channel dropped",
                   "palette.png: palette image expanded to RGB"):
        assert needle in notes, needle
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == snapshot  # nothing written


def test_failing_plugins_are_isolated(small_harvard, tmp_path) -> None:
    for method in FAILING:
        mmif_bench.register("methods", method)
    names = [m.name for m in FAILING]
    reference = run(_config(small_harvard, tmp_path / "ref", methods=["mean", "max"],
                            metrics=["EN", "SD", "SSIM"]))
    mixed = run(_config(small_harvard, tmp_path / "mix", methods=["mean", *names, "max"],
                        metrics=["EN", "SD", "SSIM"], timeout=0.5))
    assert reference.exit_code == EXIT_OK and mixed.exit_code == EXIT_PARTIAL
    assert (tmp_path / "mix" / "scores.csv").read_bytes() == (tmp_path / "ref" / "scores.csv").read_bytes()
    failures = json.loads((tmp_path / "mix" / "run.json").read_text())["failures"]
    by_method = {}
    for failure in failures:
        by_method.setdefault(failure["method"], set()).add(failure["message"])
    assert set(by_method) == set(names)
    assert len(failures) == 6 * len(names)
    expected = {"raises": "deliberate failure", "returns_nan": "NaN", "wrong_shape": "shape",
                "wrong_dtype": "dtype", "out_of_range": "outside [0, 1]", "hangs": "timeout"}
    for method, needle in expected.items():
        assert all(needle in message for message in by_method[method]), (method, by_method[method])


@pytest.mark.slow
def test_same_run_twice_is_byte_identical(tmp_path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        run(RunConfig(dataset="phantom", methods=["mean", "max"], metrics=["EN", "SD"], out=out))
        outs.append(out)
    produced = sorted(p.name for p in outs[0].iterdir() if p.is_file())
    assert {"scores.csv", "run.json", "leaderboard.md", "leaderboard.csv"} <= set(produced)
    for name in produced:
        if name == "run.json":
            continue  # holds the output-specific paths of nothing but inputs; compared below
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert (outs[0] / "run.json").read_bytes() == (outs[1] / "run.json").read_bytes()


def test_nothing_to_run_has_its_own_exit_code(tmp_path) -> None:
    (tmp_path / "data" / "MRI-CT" / "MRI").mkdir(parents=True)
    (tmp_path / "data" / "MRI-CT" / "CT").mkdir()
    summary = run(RunConfig(dataset=str(tmp_path / "data"), methods=["mean"], out=tmp_path / "o",
                            report=False))
    assert summary.exit_code == EXIT_NOTHING


def test_output_inside_dataset_is_refused(tmp_path) -> None:
    data = tmp_path / "data"
    shutil.copytree(mmif_bench.create_dataset("phantom").root, data)
    with pytest.raises(ValueError, match="inside the dataset folder"):
        run(RunConfig(dataset=str(data), out=data / "results", report=False))


@pytest.mark.slow
def test_process_pool_gives_the_same_scores(tmp_path) -> None:
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        summary = run(RunConfig(dataset="phantom", methods=["mean", "dwt"], metrics=["EN", "SSIM"],
                                out=out, jobs=jobs, shard_size=2, report=False))
        assert summary.exit_code == EXIT_OK and summary.fused_now == 12
        outs.append((out / "scores.csv").read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_refresh_recomputes_only_the_named_methods(tmp_path) -> None:
    base = dict(dataset="phantom", methods=["mean", "max"], metrics=["EN"], out=tmp_path / "T",
                report=False)
    run(RunConfig(**base))
    before = (tmp_path / "T" / "scores.csv").read_bytes()
    again = run(RunConfig(refresh=["max"], **base))
    assert (again.fused_now, again.fused_cached) == (6, 6)
    assert (again.scored_now, again.scored_cached) == (6, 6)
    everything = run(RunConfig(refresh=True, **base))
    assert (everything.fused_now, everything.scored_now) == (12, 12)
    assert (tmp_path / "T" / "scores.csv").read_bytes() == before
    with pytest.raises(ValueError, match="--refresh names dwt"):
        run(RunConfig(refresh=["dwt"], **base))
