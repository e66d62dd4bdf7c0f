"""The HTML page in a real browser (issue 15, item 8): headless Chromium loads it with no
console error and no network request, lays the formulas out as MathML, and a click on
dL/da_11 highlights d_11 and d_12 and nothing else. Skips where no browser is installed."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("sympy", reason="pg.explain needs SymPy (extra: explain)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from test_explain import seed_explanation  # noqa: E402

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    BROWSER is None or DRIVER is None,
    reason="no headless Chromium (Debian: apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "seed.html"
    seed_explanation().save(str(path))
    browser.get(path.as_uri())
    return browser, path.as_uri()


def test_loads_with_no_console_error_and_no_network_request(page):
    browser, url = page
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    requests = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    assert requests and all(r == url for r in requests), requests


def test_formulas_are_laid_out_as_mathml(page):
    browser, _ = page
    layout = browser.execute_script(
        """
        const fraction = document.querySelector('mfrac');
        const [top, bottom] = fraction.children;
        return {
            maths: document.querySelectorAll('math').length,
            width: fraction.getBoundingClientRect().width,
            over: top.getBoundingClientRect().bottom <= bottom.getBoundingClientRect().top + 1,
            namespace: fraction.namespaceURI,
        };
        """
    )
    assert layout["maths"] > 10
    assert layout["namespace"] == "http://www.w3.org/1998/Math/MathML"
    assert layout["width"] > 0 and layout["over"], layout  # a fraction: numerator on top


def test_click_on_a_gradient_element_highlights_its_paths(page):
    browser, _ = page
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "grad-a_11").click()
    highlighted = browser.execute_script(
        "return [...document.querySelectorAll('.highlight')].map(e => e.id).sort()"
    )
    assert highlighted == ["element-d_11", "element-d_12"]
    shown = browser.execute_script(
        "return [...document.querySelectorAll('.paths.shown')].map(e => e.id)"
    )
    assert shown == ["paths-a_11"]
    browser.find_element(By.ID, "grad-c_2").click()
    highlighted = browser.execute_script(
        "return [...document.querySelectorAll('.highlight')].map(e => e.id).sort()"
    )
    assert highlighted == ["element-d_12", "element-d_22"]
