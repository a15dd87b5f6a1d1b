"""index.html: escaping and content in Python, then sorting and errors in real headless chromium."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mammo_cv.review.gallery import write_gallery

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NASTY = "<img src=x onerror=\"document.title='pwned'\">&.dcm"

REASON = ("10 calcs, 10 fine (< 0.5 mm), 7 fine-linear, pleomorphism 0.51, linear distribution -> score "
          "1.00 >= 0.5 -> suspicious_cluster <script>alert(1)</script>")

# image_id, status, n_calcifications, cluster scores, study_key, laterality, view (the table is out of order)
CASES = [
    ("b_mid", "ok", 12, [0.35, 0.61], "s1", "L", "MLO"),
    ("a_none", "ok", 40, [], "s1", "R", "CC"),
    ("d_top", "ok", 3, [0.93], "s2", "L", "CC"),
    ("c_low", "ok", 7, [0.12], "s1", "L", "CC"),
    ("e_rmlo", "ok", 1, [], "s1", "R", "MLO"),
    (NASTY, "error", 0, [], "s3", "", ""),
]
HANGING_S1 = ["a_none.dcm", "c_low.dcm", "e_rmlo.dcm", "b_mid.dcm"]  # R CC, L CC, R MLO, L MLO


def tables():
    """images.csv with four of the six n_<label> columns, and the calcifications that give the other two."""
    images = {
        "image_id": np.array([c[0] for c in CASES], object),
        "source_path": np.array([f"in/{c[0]}.dcm" for c in CASES], object),
        "status": np.array([c[1] for c in CASES], object),
        "error": np.array(["" if c[1] == "ok" else "NotDicomError: in/x.dcm: no DICM marker <b>" for c in CASES],
                          object),
        "laterality": np.array([c[5] for c in CASES], object),
        "view": np.array([c[6] for c in CASES], object),
        "study_key": np.array([c[4] for c in CASES], object),
        "n_calcifications": np.array([c[2] for c in CASES]),
        "n_clusters": np.array([len(c[3]) for c in CASES]),
        "n_secretory": np.array([1, 0, 0, 2, 0, 0]),
        "n_vascular": np.array([5, 30, 0, 0, 0, 0]),
        "n_macro": np.array([0, 7, 1, 5, 1, 0]),
        "n_suspicious_cluster": np.array([6, 0, 2, 0, 0, 0]),
    }
    rows = [(c[0], k, s) for c in CASES for k, s in enumerate(c[3])]
    clusters = {
        "image_id": np.array([r[0] for r in rows], object),
        "cluster_id": np.array([r[1] for r in rows]),
        "n_calcs": np.array([4] * len(rows)),
        "label": np.array(["suspicious_cluster" if r[2] >= 0.5 else "vascular" for r in rows], object),
        "score": np.array([r[2] for r in rows]),
        "reason": np.array([REASON] * len(rows), object),
    }
    calcifications = {"image_id": np.array(["a_none"] * 3 + ["b_mid"], object),
                      "label": np.array(["punctate", "punctate", "other", "macro"], object)}
    return images, clusters, calcifications


def write(out_dir: Path, *, side=(40, 30)) -> Path:
    images, clusters, calcifications = tables()
    (out_dir / "overlays").mkdir(parents=True)
    for image_id, status, *_ in CASES:
        if status == "ok":
            cv2.imwrite(str(out_dir / "overlays" / f"{image_id}.png"), np.full((*side, 3), 90, np.uint8))
    return write_gallery(out_dir, images, clusters, calcifications=calcifications)


@pytest.fixture()
def gallery(tmp_path) -> Path:
    return write(tmp_path)


def test_page_escapes_untrusted_text_and_has_one_card_per_image(gallery):
    page = gallery.read_text(encoding="utf-8")
    assert gallery.name == "index.html"
    assert page.count("<article ") == len(CASES)
    assert NASTY not in page and html.escape(NASTY) in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "no DICM marker &lt;b&gt;" in page
    # self-contained: nothing fetched from the network, overlays linked by relative path
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert 'href="overlays/d_top.png"' in page and 'src="overlays/d_top.png"' in page
    # the error row has no overlay; its card carries the message, not a picture (+1: the viewer)
    assert page.count("<img ") == 5 + 1


def test_cards_follow_the_hanging_protocol_with_counts_for_all_six_labels(gallery):
    page = gallery.read_text(encoding="utf-8")
    titles = re.findall(r"<h3>([^<]*)</h3>", page)
    study_one = [t for t in titles if t.split()[-1] in HANGING_S1]
    assert study_one == ["R CC a_none.dcm", "L CC c_low.dcm", "R MLO e_rmlo.dcm", "L MLO b_mid.dcm"]
    assert page.count("<section class=\"study\"") == 3
    card = page[page.index("<h3>R CC a_none.dcm"):page.index("<h3>L CC c_low.dcm")]
    counts = dict(re.findall(r">([a-z_]+) (\d+)</li>", card))
    # four from images.csv; punctate and other, which it lacks, from the calcification table
    assert counts == {"secretory": "0", "vascular": "30", "macro": "7", "suspicious_cluster": "0",
                      "punctate": "2", "other": "1"}
    mid = page[page.index("<h3>L MLO b_mid.dcm"):]
    assert "<b>suspicious_cluster 0.61</b>" in mid and "<b>vascular</b>" in mid  # no score where it means nothing
    assert "fine-linear, pleomorphism 0.51" in mid


def test_dataframe_input_gives_the_same_page(tmp_path, gallery):
    pd = pytest.importorskip("pandas")
    images, clusters, calcifications = tables()
    other = tmp_path / "df"
    shutil.copytree(gallery.parent / "overlays", other / "overlays")
    page = write_gallery(other, pd.DataFrame(images), pd.DataFrame(clusters),
                         calcifications=pd.DataFrame(calcifications)).read_text(encoding="utf-8")
    assert page == gallery.read_text(encoding="utf-8")


def test_missing_columns_are_named(tmp_path):
    images, clusters, _ = tables()
    del clusters["score"]
    with pytest.raises(KeyError, match="score"):
        write_gallery(tmp_path, images, clusters)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMEDRIVER).is_file() or not Path(CHROMIUM).is_file():
        pytest.skip(f"headless browser test needs chromium and chromedriver (looked for {CHROMIUM}, {CHROMEDRIVER}); "
                    "apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--allow-file-access-from-files", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def study_names(driver):
    sections = driver.find_elements("css selector", "#studies > section")
    return [section.get_attribute("data-name") for section in sections]


def shown_cards(driver):
    return [card.get_attribute("data-name") for card in driver.find_elements("css selector", ".card")
            if card.is_displayed()]


def choose(driver, select_id, value):
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", select_id)).select_by_value(value)


@pytest.mark.slow
def test_gallery_in_headless_chromium_sorts_filters_opens_and_logs_no_errors(browser, gallery):
    browser.get(gallery.as_uri())
    assert browser.title == "mammo_cv review"  # the injected onerror never ran
    assert len(shown_cards(browser)) == len(CASES)
    # studies by suspicion: s2 (0.93), s1 (0.61), the error-only study last; cards in hanging order
    assert study_names(browser) == ["d_top.dcm", "a_none.dcm", f"{NASTY}.dcm"]
    assert shown_cards(browser)[1:5] == HANGING_S1
    browser.find_element("css selector", "button[data-sort=name]").click()
    assert study_names(browser) == sorted(study_names(browser))
    browser.find_element("css selector", "button[data-sort=calcifications]").click()
    assert study_names(browser)[:2] == ["a_none.dcm", "d_top.dcm"]
    assert browser.find_element("css selector", "button[data-sort=calcifications]").get_attribute(
        "aria-pressed") == "true"

    choose(browser, "label-filter", "punctate")  # only a_none has punctate ones (from calcifications.csv)
    assert shown_cards(browser) == ["a_none.dcm"]
    assert browser.find_element("id", "shown").text == "1"
    choose(browser, "label-filter", "")
    choose(browser, "score-filter", "0.5")
    assert sorted(shown_cards(browser)) == ["b_mid.dcm", "d_top.dcm"]
    assert [s.is_displayed() for s in browser.find_elements("css selector", "#studies > section")].count(True) == 2
    choose(browser, "score-filter", "0")

    images = browser.find_elements("css selector", "#studies .card img")
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 30
               for img in images)  # every overlay thumbnail loaded from its relative path
    images[0].click()  # opens the viewer, the overlay at its full size
    viewer = browser.find_element("id", "viewer")
    assert viewer.get_attribute("open") is not None
    full = viewer.find_element("css selector", "img")
    assert browser.execute_script("return [arguments[0].naturalWidth, arguments[0].getBoundingClientRect().width]",
                                  full) == [30, 30]
    error = browser.find_element("css selector", ".card.error")
    assert "NotDicomError: in/x.dcm: no DICM marker <b>" in error.text and NASTY in error.text
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


LAYOUT_PROBLEMS = """
const problems = [];
const page = document.documentElement;
if (page.scrollWidth > page.clientWidth) problems.push('page overflows horizontally: ' + page.scrollWidth);
document.querySelectorAll('.card').forEach(function (card) {
  const box = card.getBoundingClientRect();
  card.querySelectorAll('h3, p, li, b, span, img').forEach(function (el) {
    const r = el.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1) problems.push('outside its card: ' + el.textContent);
    if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'IMG' && getComputedStyle(el).display !== 'inline')
      problems.push('clipped: ' + el.textContent);
  });
});
return problems;
"""


@pytest.mark.slow
def test_gallery_layout_at_1400_by_1000_has_no_overflow_or_clipped_text(browser, tmp_path):
    page = write(tmp_path / "run", side=(1000, 800))
    browser.set_window_size(1400, 1000)
    browser.get(page.as_uri())
    assert browser.execute_script("return window.innerWidth") <= 1400
    assert browser.execute_script(LAYOUT_PROBLEMS) == []
    cards = browser.find_elements("css selector", ".card")
    widths = {round(card.rect["width"]) for card in cards}
    assert min(widths) >= 300  # the grid's minimum card width held
    # four cards of a study side by side at 1400 px: the hanging protocol reads as one row
    tops = {round(card.rect["y"]) for card in browser.find_elements("css selector", "#studies > section .card")
            if card.get_attribute("data-name") in HANGING_S1}
    assert len(tops) == 1
    shot = tmp_path / "gallery_1400x1000.png"
    assert browser.save_screenshot(str(shot))
    assert cv2.imread(str(shot)).shape[1] == browser.execute_script("return window.innerWidth")


