"""Reports survive any name and any disk (issue 26): LaTeX labels from a slug, names
escaped in every format, figures drawn for any name, atomic files, and ``report`` reading
only images under the results folder and the dataset."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _report_results import make_wide_results
from PIL import Image

from mmif_bench.reporting import write_report

HOSTILE = {
    "ours-a": "$\\undefinedmacro$",
    "ours-b": "<script>alert(1)</script>\nnext | row",
    "ours-c": "метод-中文_é",
    "ours-d": "50%_{#}&~^\\",
}
PAIR = {"MRI-CT": "MRI-CT_v2"}


def _few_metrics(out: Path, keep: tuple[str, ...] = ("EN", "SD")) -> Path:
    """The wide results with two metrics (each metric costs two charts)."""
    scores = pd.read_csv(out / "scores.csv", dtype=str)
    scores[scores["metric"].isin(keep)].to_csv(out / "scores.csv", index=False)
    run = json.loads((out / "run.json").read_text())
    run["metrics"] = {k: v for k, v in run["metrics"].items() if k in keep}
    (out / "run.json").write_text(json.dumps(run))
    return out


def _rename(out: Path) -> Path:
    scores = pd.read_csv(out / "scores.csv", dtype=str)
    scores["method"] = scores["method"].replace(HOSTILE)
    scores["pair"] = scores["pair"].replace(PAIR)
    scores.to_csv(out / "scores.csv", index=False)
    run = json.loads((out / "run.json").read_text())
    run["methods"] = {HOSTILE.get(k, k): v for k, v in run["methods"].items()}
    run["not_applicable"] = {HOSTILE.get(k, k): v for k, v in run["not_applicable"].items()}
    for entry in run["pairs"]:
        entry["pair_type"] = PAIR.get(entry["pair_type"], entry["pair_type"])
    run["failures"] = [{"method": HOSTILE["ours-b"], "pair_type": "MRI-PET", "image": "0.png",
                        "message": "<img src=x onerror=alert(2)>\nboom"}]
    run["skipped"] = [{"where": "MRI-CT/`x`\n.png", "message": "<b>bad</b>\n| cell"}]
    (out / "run.json").write_text(json.dumps(run))
    return out


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    out = _rename(_few_metrics(make_wide_results(tmp_path_factory.mktemp("hostile") / "run",
                                                 images=3)))
    write_report(out)
    return out


@pytest.mark.slow
def test_latex_labels_are_slugs_and_every_name_is_escaped(hostile_report) -> None:
    tex = (hostile_report / "leaderboard.tex").read_text(encoding="utf-8")
    labels = re.findall(r"\\label\{([^}]*)\}", tex)
    assert "tab:mmif-MRI-CT-v2" in labels
    assert all(re.fullmatch(r"tab:mmif-[A-Za-z0-9-]+", label) for label in labels), labels
    assert tex.isascii()  # pdflatex sets every character
    assert r"\$\textbackslash{}undefinedmacro\$" in tex
    assert r"50\%\_\{\#\}\&\textasciitilde{}\textasciicircum{}\textbackslash{}" in tex
    assert "U+043C" in tex and "-U+4E2DU+6587\\_e" in tex  # Cyrillic, CJK by code point; é -> e
    assert "\n next" not in tex


def test_latex_helpers() -> None:
    from mmif_bench.reporting.render import latex_escape, latex_label

    assert latex_label("MRI-CT_v2") == "MRI-CT-v2" and latex_label("}{\\") == "x"
    assert latex_escape("Ångström\tx") == "Angstrom x"
    assert latex_escape("ﬁ") == "fi"


def test_markdown_cells_hold_no_html_and_no_line_breaks(hostile_report) -> None:
    md = (hostile_report / "leaderboard.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; next \\| row" in md
    for block in re.split(r"\n\s*\n", md):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:  # every row of a table has the header's number of columns
            cells = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
            assert len(cells) == 1, block
    from mmif_bench.reporting.render import markdown_escape

    assert markdown_escape("a\r\nb|c<d>&") == "a  b\\|c&lt;d&gt;&amp;"


def test_html_page_and_figures_are_written_for_any_name(hostile_report) -> None:
    html = (hostile_report / "leaderboard.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert (hostile_report / "figures" / "cd_diagram.png").stat().st_size > 0
    assert (hostile_report / "figures" / "bar_EN.png").stat().st_size > 0
    assert not list(hostile_report.rglob(".*.tmp"))


def _png(path: Path, value: int, size: int = 40) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(path)


def test_report_reads_only_images_under_the_results_and_the_dataset(tmp_path) -> None:
    from mmif_bench.runner import RunConfig, run

    data = tmp_path / "data"
    for name in ("1.png", "2.png"):
        _png(data / "MRI-CT" / "MRI" / name, 1 + len(name))
        _png(data / "MRI-CT" / "CT" / name, 2 + len(name))
    out = tmp_path / "out"
    assert run(RunConfig(dataset=str(data), methods=["mean"], metrics=["EN"], split="all",
                         out=out, report=False)).exit_code == 0
    secret = tmp_path / "secret.png"
    _png(secret, 99)
    (out / "secret-fused").mkdir()
    _png(out.parent / "fused-outside" / "x.png", 98)
    run_json = json.loads((out / "run.json").read_text())
    run_json["pairs"].append({**run_json["pairs"][0], "image": "../../../fused-outside/x"})
    run_json["pairs"][1]["file_a"] = "../secret.png"
    run_json["pairs"][1]["file_b"] = str(secret)
    (out / "run.json").write_text(json.dumps(run_json))
    write_report(out, source_root=data, images_per_pair=0)
    html = (out / "leaderboard.html").read_text()
    for stolen in (secret, out.parent / "fused-outside" / "x.png"):
        assert base64.b64encode(stolen.read_bytes()).decode() not in html
    own = base64.b64encode((data / "MRI-CT" / "MRI" / "1.png").read_bytes()).decode()
    assert own in html  # the dataset's own images are still shown


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_full_disk_keeps_the_previous_reports_and_says_so_in_one_line(tmp_path) -> None:
    out = _few_metrics(make_wide_results(tmp_path / "run", images=2))
    write_report(out)
    before = {p: p.read_bytes() for p in out.glob("leaderboard.*")}
    # a file-size limit below the HTML page's size makes its write fail as a full disk does
    limit = min(len(b) for p, b in before.items() if p.suffix == ".html") // 2
    probe = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from mmif_bench.cli import main\n"
        "sys.exit(main(['report', '--results', sys.argv[1]]))\n")
    result = subprocess.run([sys.executable, "-c", probe, str(out)], capture_output=True,
                            text=True, timeout=300, env=dict(os.environ))
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert result.returncode == 6, result.stderr
    assert len(errors) == 1 and "File too large" in errors[0] and "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in out.glob("leaderboard.*")} == before
    assert not list(out.rglob(".*.tmp"))
