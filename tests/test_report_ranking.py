"""The overall ranking: block ranks, Friedman + Nemenyi against scipy and scikit-posthocs
computed directly, the critical difference against Demšar's table, and the BibTeX of the
methods and metrics cited by the LaTeX table."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs
from scipy.stats import friedmanchisquare

from mmif_bench.reporting.citations import cite_keys
from mmif_bench.reporting.ranking import critical_difference, overall_ranking

PAIRS = ["MRI-CT", "MRI-PET"]
METRICS = {"A": True, "B": True, "C": False}  # C: lower is better


def _summary(means: dict[tuple[str, str], dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"pair": p, "metric": m, "method": method, "mean": v}
                         for (p, m), row in means.items() for method, v in row.items()])


def test_block_ranks_follow_direction_average_ties_and_skip_absent_methods() -> None:
    means = {("MRI-CT", "A"): {"x": 3.0, "y": 2.0, "z": 1.0, "ct": 0.0},
             ("MRI-CT", "B"): {"x": 1.0, "y": 1.0, "z": 0.0, "ct": 5.0},
             ("MRI-CT", "C"): {"x": 0.1, "y": 0.2, "z": 0.3, "ct": 0.4},  # lower is better
             ("MRI-PET", "A"): {"x": 1.0, "y": 2.0, "z": 3.0},
             ("MRI-PET", "B"): {"x": 1.0, "y": 2.0, "z": 3.0},
             ("MRI-PET", "C"): {"x": 1.0, "y": 2.0, "z": 3.0}}
    ranking = overall_ranking(_summary(means), PAIRS, METRICS)
    rows = {row.method: row for row in ranking.rows}
    # MRI-CT: x ranks 1, 2.5 (tie with y), 1; ct ranks 4, 1, 4
    assert rows["x"].per_pair[0] == pytest.approx((1 + 2.5 + 1) / 3)
    assert rows["ct"].per_pair[0] == pytest.approx((4 + 1 + 4) / 3)
    assert math.isnan(rows["ct"].per_pair[1]) and rows["ct"].overall == rows["ct"].per_pair[0]
    # MRI-PET among x, y, z: A, B higher-better -> z first; C lower-better -> x first
    assert rows["z"].per_pair[1] == pytest.approx((1 + 1 + 3) / 3)
    assert rows["x"].overall == pytest.approx((rows["x"].per_pair[0] + rows["x"].per_pair[1]) / 2)
    assert [r.overall for r in ranking.rows] == sorted(r.overall for r in ranking.rows)
    assert ranking.friedman.left_out == ["ct"] and ranking.friedman.methods == ["x", "y", "z"]


def test_friedman_nemenyi_and_cd_equal_the_libraries_and_demsar_table() -> None:
    rng = np.random.default_rng(3)
    methods = ["m1", "m2", "m3", "m4"]
    pairs = ["MRI-CT", "MRI-PET", "MRI-SPECT"]
    signed = {}  # block -> larger-is-better scores, built independently of the module
    means = {}
    for pair in pairs:
        for metric, higher in METRICS.items():
            values = rng.normal(np.arange(4)[::-1], 1.5)  # m1 tends to be best
            signed[(pair, metric)] = values
            means[(pair, metric)] = dict(zip(methods, values if higher else -values))
    ranking = overall_ranking(_summary(means), pairs, METRICS)
    f = ranking.friedman
    matrix = np.array([signed[block] for block in signed])
    statistic, p_value = friedmanchisquare(*matrix.T)
    assert f.blocks == 9 and f.methods == methods
    assert f.statistic == pytest.approx(statistic, rel=1e-12)
    assert f.p_value == pytest.approx(p_value, rel=1e-9)
    expected = scikit_posthocs.posthoc_nemenyi_friedman(matrix).to_numpy()
    np.testing.assert_allclose(f.nemenyi.to_numpy(), expected, rtol=1e-12)
    by_hand = pd.DataFrame(matrix).rank(axis=1, ascending=False).mean(axis=0).to_numpy()
    np.testing.assert_allclose(f.ranks.to_numpy(), by_hand)
    # Demšar (2006), Table 5(a): q_0.05 = 2.569 for k = 4 (studentized range / sqrt 2)
    assert f.critical_difference == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 9)), rel=1e-3)
    assert critical_difference(10, 39) == pytest.approx(3.164 * math.sqrt(10 * 11 / (6 * 39)),
                                                        rel=1e-3)


def test_fewer_than_three_complete_methods_give_no_friedman_test() -> None:
    means = {("MRI-CT", m): {"x": 1.0, "y": 2.0} for m in METRICS}
    assert overall_ranking(_summary(means), ["MRI-CT"], METRICS).friedman is None


def test_report_holds_ranking_cd_diagram_and_cites_every_method_and_metric(
        wide_report: Path) -> None:
    from mmif_bench.registry import get, get_metric

    markdown = (wide_report / "leaderboard.md").read_text()
    assert markdown.index("## Overall ranking") < markdown.index("## MRI-CT")
    assert "figures/cd_diagram.png" in markdown and (wide_report / "figures/cd_diagram.png").is_file()

    bib = (wide_report / "leaderboard.bib").read_text()
    tex = (wide_report / "leaderboard.tex").read_text()
    bib_keys = set(cite_keys(bib))
    cited = {key for group in re.findall(r"\\cite\{([^}]*)\}", tex) for key in group.split(",")}
    assert cited == bib_keys and len(bib_keys) == len(cite_keys(bib))  # each entry once
    for name in ["pca", "dwt", "laplacian", "gff", "ifcnn", "dmfnet"]:
        keys = cite_keys(get("methods", name).bibtex)
        assert keys and set(keys) <= cited, name
    for metric in ["EN", "SD", "SF", "AG", "MI", "SCD", "CC", "PSNR", "VIF", "Qabf", "SSIM",
                   "Nabf", "MS_SSIM"]:
        assert set(cite_keys(get_metric(metric).bibtex)) <= cited, metric
    assert "\\bibliography{leaderboard}" in tex
    assert re.search(r"^mean & ", tex, re.M)  # no bibtex: no \cite

