"""The HTML leaderboard in a real browser: Debian's headless Chromium via Selenium.

Needs the ``chromium`` and ``chromium-driver`` packages; selenium-manager is never used
(the driver path is given), so nothing is downloaded. A screenshot goes to test-artifacts/.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from _report_results import make_results

from mmif_bench.reporting import write_report

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@pytest.fixture(scope="module")
def page(harvard_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = make_results(harvard_root, tmp_path_factory.mktemp("html") / "run", per_pair=3)
    write_report(out, source_root=harvard_root)
    return out / "leaderboard.html"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not found: apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="mmif-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _methods(table) -> list[str]:
    return [row.find_element(By.TAG_NAME, "td").text
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_page_sorts_and_shows_chosen_pair(browser, page: Path, repo_root: Path) -> None:
    browser.get(page.as_uri())
    assert browser.title.startswith("mmif-bench leaderboard")

    table = browser.find_element(By.CSS_SELECTOR, "table.sortable[data-pair='MRI-CT']")
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    assert [h.text.split("\n")[0] for h in headers][:4] == ["Method", "EN ↑", "SD ↑", "ERR ↓"]
    assert "Shannon entropy" in headers[1].get_attribute("title")
    headers[2].click()  # SD, higher is better: best (max fusion) first
    assert _methods(table) == ["max", "mean"]
    headers[2].click()
    assert _methods(table) == ["mean", "max"]

    viewer = browser.find_element(By.ID, "viewer")
    before = viewer.find_element(By.TAG_NAME, "img").get_attribute("src")
    Select(browser.find_element(By.ID, "pair-select")).select_by_value("MRI-PET")
    title = browser.find_element(By.ID, "view-title").text
    assert title.startswith("MRI-PET / ")
    images = viewer.find_elements(By.TAG_NAME, "img")
    assert len(images) == 4 and images[0].get_attribute("src") != before
    assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 0
               for img in images)
    captions = [c.text for c in viewer.find_elements(By.TAG_NAME, "figcaption")]
    assert captions == ["MRI (source)", "PET (source)", "mean", "max"]

    ActionChains(browser).move_to_element(images[2]).perform()
    assert len(viewer.find_elements(By.CSS_SELECTOR, ".zoom.zoomed")) == 4

    artefacts = repo_root / "test-artifacts"
    artefacts.mkdir(exist_ok=True)
    browser.save_screenshot(str(artefacts / "leaderboard-images-zoomed.png"))
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(artefacts / "leaderboard-top.png"))

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


@pytest.mark.slow
def test_wide_board_at_1280_px_has_ranking_first_and_a_sticky_method_column(
        browser, wide_report: Path, repo_root: Path) -> None:
    """16 methods x 13 metrics: the page itself never scrolls sideways at 1280 px; each
    wide table scrolls in its own box while its method column stays in place."""
    browser.set_window_size(1280, 1000)
    browser.get((wide_report / "leaderboard.html").as_uri())
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width

    ranking = browser.find_element(By.ID, "overall-ranking")
    first_table = browser.find_element(By.CSS_SELECTOR, "table.sortable[data-pair='MRI-CT']")
    assert ranking.location["y"] < first_table.location["y"]
    assert _methods(ranking)[:3] == ["mean", "max", "pca"]  # synthetic: index order wins
    diagram = browser.find_element(By.CSS_SELECTOR, ".cd img")
    assert browser.execute_script("return arguments[0].naturalWidth", diagram) > 0
    assert "Friedman test over 39 blocks" in browser.find_element(By.ID, "friedman").text

    box = first_table.find_element(By.XPATH, "..")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth",
                                  box)
    method_cell = first_table.find_element(By.CSS_SELECTOR, "tbody tr td")
    other_cell = first_table.find_elements(By.CSS_SELECTOR, "tbody tr td")[1]
    before = method_cell.rect["x"], other_cell.rect["x"]
    browser.execute_script("arguments[0].scrollIntoView(); arguments[0].scrollLeft = 600", box)
    after = method_cell.rect["x"], other_cell.rect["x"]
    assert after[0] == pytest.approx(before[0], abs=1)  # sticky
    assert after[1] < before[1] - 500                   # the rest scrolled
    covered = browser.execute_script(
        "var r = arguments[0].getBoundingClientRect();"
        "return document.elementFromPoint(r.left + 5, r.top + r.height / 2) === arguments[0];",
        method_cell)
    assert covered  # drawn above the scrolled cells

    artefacts = repo_root / "test-artifacts"
    artefacts.mkdir(exist_ok=True)
    browser.save_screenshot(str(artefacts / "leaderboard-wide-1280-scrolled.png"))
