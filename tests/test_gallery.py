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

# image_id, status, n_calcifications, cluster scores
CASES = [
    ("b_mid", "ok", 12, [0.35, 0.61]),
    ("a_none", "ok", 40, []),
    ("d_top", "ok", 3, [0.93]),
    ("c_low", "ok", 7, [0.12]),
    (NASTY, "error", 0, []),
]


def tables():
    n = len(CASES)
    images = {
        "image_id": np.array([c[0] for c in CASES], object),
        "source_path": np.array([f"in/{c[0]}" for c in CASES], object),
        "status": np.array([c[1] for c in CASES], object),
        "error": np.array(["" if c[1] == "ok" else "NotDicomError: in/x.dcm: no DICM marker <b>" for c in CASES],
                          object),
        "laterality": np.array(["L"] * n, object),
        "view": np.array(["CC"] * n, object),
        "n_calcifications": np.array([c[2] for c in CASES]),
        "n_clusters": np.array([len(c[3]) for c in CASES]),
        "n_secretory": np.array([1, 0, 0, 2, 0]),
        "n_vascular": np.array([5, 30, 0, 0, 0]),
        "n_macro": np.array([0, 10, 1, 5, 0]),
        "n_suspicious_cluster": np.array([6, 0, 2, 0, 0]),
    }
    rows = [(c[0], k, s) for c in CASES for k, s in enumerate(c[3])]
    clusters = {
        "image_id": np.array([r[0] for r in rows], object),
        "cluster_id": np.array([r[1] for r in rows]),
        "n_calcs": np.array([4] * len(rows)),
        "label": np.array(["suspicious_cluster"] * len(rows), object),
        "score": np.array([r[2] for r in rows]),
        "reason": np.array(["pleomorphic <script>alert(1)</script>"] * len(rows), object),
    }
    return images, clusters


@pytest.fixture()
def gallery(tmp_path) -> Path:
    images, clusters = tables()
    (tmp_path / "overlays").mkdir()
    for image_id, status, *_ in CASES:
        if status == "ok":
            cv2.imwrite(str(tmp_path / "overlays" / f"{image_id}.png"), np.full((40, 30, 3), 90, np.uint8))
    return write_gallery(tmp_path, images, clusters)


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
    # the error row has no overlay; its card carries the message, not a picture
    assert page.count("<img ") == 4


def test_dataframe_input_gives_the_same_page(tmp_path, gallery):
    pd = pytest.importorskip("pandas")
    images, clusters = tables()
    other = tmp_path / "df"
    shutil.copytree(gallery.parent / "overlays", other / "overlays")
    page = write_gallery(other, pd.DataFrame(images), pd.DataFrame(clusters)).read_text(encoding="utf-8")
    assert page == gallery.read_text(encoding="utf-8")


def test_missing_columns_are_named(tmp_path):
    images, clusters = tables()
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


def card_names(driver):
    return [card.get_attribute("data-name") for card in driver.find_elements("css selector", "#cards > article")]


@pytest.mark.slow
def test_gallery_in_headless_chromium_sorts_and_logs_no_errors(browser, gallery):
    browser.get(gallery.as_uri())
    assert browser.title == "mammo_cv review"  # the injected onerror never ran
    assert len(card_names(browser)) == len(CASES)
    # default: by suspicion, highest max cluster score first, images without clusters then errors last
    assert card_names(browser) == ["d_top", "b_mid", "c_low", "a_none", NASTY]

    browser.find_element("css selector", "button[data-sort=name]").click()
    assert card_names(browser) == sorted(c[0] for c in CASES)
    browser.find_element("css selector", "button[data-sort=suspicion]").click()
    assert card_names(browser)[0] == "d_top"
    assert browser.find_element("css selector", "button[data-sort=suspicion]").get_attribute("aria-pressed") == "true"
    browser.find_element("css selector", "button[data-sort=calcifications]").click()
    assert card_names(browser)[:4] == ["a_none", "b_mid", "c_low", "d_top"]

    first_ok = browser.find_element("css selector", "#cards > article:not(.error)")
    assert "40 calcifications" in first_ok.text
    images = browser.find_elements("css selector", "#cards img")
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 30
               for img in images)  # every overlay thumbnail loaded from its relative path
    error = browser.find_element("css selector", "#cards > article.error")
    assert "NotDicomError: in/x.dcm: no DICM marker <b>" in error.text and NASTY in error.text
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
