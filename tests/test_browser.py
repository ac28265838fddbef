"""The built book in a real browser: headless Chromium opens the front page and two regions."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

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
                "--window-size=1280,1600",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _check_page(driver, page: Path, shots: Path, title_has: str, min_images: int) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.as_uri())
    # index.html redirects to the front page: wait until a page with a body has loaded
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && document.body !== null "
        "&& document.querySelector('main') !== null"))
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    assert title_has in driver.title, (page, driver.title)
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
    shots.mkdir(parents=True, exist_ok=True)
    png = shots / f"{page.stem}.png"
    driver.save_screenshot(str(png))
    assert png.stat().st_size > 10_000


def test_front_page_and_regions_in_chromium(built_book, browser):
    html = built_book.parent
    shots = html.parent / "screenshots"
    _check_page(browser, html / "index.html", shots, "carbonlab", 1)
    assert browser.current_url.endswith("executed/index.html"), browser.current_url
    _check_page(browser, html / "executed" / "00_overview.html", shots, "Overview", 1)
    for region in ("Ningxia", "Beijing"):
        _check_page(browser, html / "executed" / "regions" / f"04_forecast_peaks_{region}.html",
                    shots, region, 1)
