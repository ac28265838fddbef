"""The built book in a real browser, offline: headless Chromium with the network blocked.

Covers issue 17's reader checks: no raw reprs (``PeakResult(``, ``dtype:``, ``e+0``) in any
page's text, every <img> loaded, math typeset by the book's own MathJax with no network, no
JavaScript redeclaration error, a region page whose first screenful holds its answer, and a
search for a province's Chinese name that finds its page. Screenshots of the pages go to
``_build/screenshots``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
RAW = ("PeakResult(", "dtype:", "e+0")
"""Text a reader must never meet: a result object's repr, a Series footer, scientific notation."""

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CARBONLAB_REQUIRE_PEERS") or os.environ.get("CI"):
            pytest.fail("chromium/chromedriver missing (apt-get install chromium chromium-driver)")
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900",
                # no network: every host name fails to resolve and every request goes to a dead
                # proxy, so only the book's own files (file://) can load
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _open(driver, page: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.as_uri())
    # index.html redirects to the front page: wait until a page with a body has loaded
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && document.body !== null "
        "&& document.querySelector('main') !== null"))


def _typeset(driver) -> int:
    """Wait for MathJax to finish; the number of typeset formulas (``mjx-container``)."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const t0 = Date.now();
        const wait = () => {
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            MathJax.startup.promise.then(
              () => done(document.querySelectorAll('mjx-container').length), () => done(-1));
          } else if (Date.now() - t0 > 20000) { done(-2); } else { setTimeout(wait, 100); }
        };
        wait();""")


def _check_page(driver, page: Path, shots: Path, title_has: str | None = None,
                min_images: int = 0) -> str:
    """Open ``page``: images loaded, no error output, no raw reprs; screenshot; main text."""
    _open(driver, page)
    if title_has:
        assert title_has in driver.title, (page, driver.title)
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    images = driver.execute_script(
        "return Array.from(document.querySelectorAll('main img')).map("
        "i => [i.src, i.complete, i.naturalWidth, i.naturalHeight]);")
    assert len(images) >= min_images, (page, images)
    for src, complete, w, h in images:
        assert complete and w > 0 and h > 0, f"{page}: image did not load: {src}"
    outputs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output')).map(e => e.innerText);")
    for text in outputs:
        assert "Traceback" not in text and "Error" not in text, f"{page}: error output: {text[:200]}"
    text = driver.execute_script("return document.querySelector('main').innerText;")
    for raw in RAW:
        i = text.find(raw)
        assert i < 0, f"{page.name}: raw output {raw!r} in the text: …{text[max(0, i - 80):i + 80]}…"
    driver.execute_script("window.scrollTo(0, 0);")
    shots.mkdir(parents=True, exist_ok=True)
    png = shots / f"{page.parent.name}_{page.stem}.png"
    driver.save_screenshot(str(png))
    assert png.stat().st_size > 10_000
    return text


def _pages(html: Path) -> list[Path]:
    pages = sorted((html / "executed").rglob("*.html")) + sorted((html / "book").glob("*.html"))
    return [p for p in pages if p.name != "search.html"]


def test_front_page_and_regions_in_chromium(built_book, browser):
    html = built_book.parent
    shots = html.parent / "screenshots"
    _check_page(browser, html / "index.html", shots, "carbonlab", 1)
    assert browser.current_url.endswith("executed/index.html"), browser.current_url
    _check_page(browser, html / "executed" / "00_overview.html", shots, "Overview", 1)
    for region in ("Ningxia", "Beijing"):
        _check_page(browser, html / "executed" / "regions" / f"region_{region}.html",
                    shots, region, 1)


def test_gallery_is_grouped_and_collapsed_in_the_sidebar(built_book, browser):
    """On a chapter page the province pages hide under one collapsed "Provinces" entry."""
    html = built_book.parent
    _open(browser, html / "executed" / "00_overview.html")
    state = browser.execute_script("""
        const nav = document.querySelector('nav.bd-docs-nav') || document.querySelector('nav');
        const group = Array.from(nav.querySelectorAll('a')).find(a => a.innerText.trim() === 'Provinces');
        const page = Array.from(nav.querySelectorAll('a')).find(a => a.href.includes('region_Ningxia'));
        const shown = e => e !== undefined && e.getClientRects().length > 0
          && (e.closest('details') === null || e.closest('details').open);
        return [group ? shown(group) : null, page ? shown(page) : null];""")
    assert state[0] is True, "no visible 'Provinces' entry in the sidebar"
    assert state[1] is False, "the province pages are listed open in the sidebar"


def test_every_page_is_clean_offline(built_book, browser):
    """No raw reprs, every image loaded, no error output, no script redeclaration error."""
    html = built_book.parent
    shots = html.parent / "screenshots"
    pages = _pages(html)
    assert len(pages) >= 8, pages
    browser.get_log("browser")  # drop earlier messages
    for page in pages:
        _check_page(browser, page, shots)
        logs = [e["message"] for e in browser.get_log("browser")]
        bad = [m for m in logs if "already been declared" in m]
        assert not bad, f"{page.name}: {bad[0][:200]}"


def test_math_is_typeset_with_the_network_blocked(built_book, browser):
    html = built_book.parent
    _open(browser, html / "executed" / "02_bma.html")
    blocked = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js')
          .then(() => done(false), () => done(true));""")
    assert blocked, "the browser reached the network; the offline check would prove nothing"
    n = _typeset(browser)
    assert n >= 5, f"MathJax typeset {n} formulas on the BMA chapter (offline)"
    src = browser.execute_script(
        "return Array.from(document.scripts).map(s => s.src).filter(s => s.includes('mathjax'));")
    assert src and all(s.startswith("file://") for s in src), src
    text = browser.execute_script("return document.querySelector('main').innerText;")
    assert "\\(" not in text and "$$" not in text, "raw TeX left in the page"


def test_region_page_answers_in_the_first_screenful(built_book, browser):
    html = built_book.parent
    page = html / "executed" / "regions" / "region_Ningxia.html"
    _open(browser, page)
    assert "宁夏" in browser.title and "Ningxia" in browser.title, browser.title
    found = browser.execute_script("""
        const h = window.innerHeight;
        const p = Array.from(document.querySelectorAll('main p, main li'))
          .find(e => e.innerText.includes('Ningxia') && e.innerText.includes('by 2030')
                     && /P = [0-9]/.test(e.innerText));
        if (!p) return null;
        const r = p.getBoundingClientRect();
        return [r.top, r.bottom, h, p.innerText];""")
    assert found, "no answer paragraph (peak by 2030 and its probability) on the region page"
    top, bottom, height, text = found
    assert bottom <= height, f"the answer ends {bottom:.0f} px down, below the first {height} px"
    assert "Ningxia" in text and "class" in text.lower(), text
    assert "What it would take" in browser.execute_script(
        "return document.querySelector('main').innerText;")


def test_search_finds_a_province_by_its_chinese_name(built_book, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    html = built_book.parent
    browser.get((html / "search.html").as_uri() + "?q=宁夏")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const s = document.querySelector('#search-results');"
        "return s !== null && s.querySelectorAll('li').length > 0;"))
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href);")
    assert any("region_Ningxia" in h for h in links), links


def test_figures_show_at_the_column_width_the_legibility_test_assumes(built_book, browser):
    """``plotting.BOOK_WIDTH_IN`` (the column a wide figure is scaled to) is what Chromium shows:
    chapter 4's widest figure, wider than the column, is displayed at the column's width."""
    from carbonlab.plotting import BOOK_WIDTH_IN

    _open(browser, built_book.parent / "executed" / "04_forecast_peaks.html")
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('main img')).map("
        "i => [i.naturalWidth, i.getBoundingClientRect().width]);")
    assert sizes
    natural, shown = max(sizes, key=lambda s: s[0])
    column = BOOK_WIDTH_IN * 96
    assert natural > shown, "no figure wider than the column: nothing to measure"
    assert abs(shown - column) <= 0.03 * column, (shown, column)
