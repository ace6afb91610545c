"""The dashboard as a person sees it: headless Chromium driven by Selenium.

One ``diplograph serve`` process is started for the module, over a store built with the
command line from the sample corpus plus one article whose fact sentence holds a
``<script>`` tag (to check that article text is shown, never run). Two browsers are used:
one with JavaScript, one without (the dashboard must work without it).

The module is skipped when Debian's ``chromium`` or ``chromedriver`` is not installed;
no browser is ever downloaded.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from .conftest import BASE, CORPUS_DIR, ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
_missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
if _missing:
    pytest.skip(
        reason=f"headless browser tests need {' and '.join(_missing)} (not installed)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.browser

QUERIES_DIR = ROOT / "queries"
WORKERS = 2
EVIL = "<script>alert(1)</script>"
EVIL_TITLE = "Chile and the OECD"
EVIL_SENTENCE = f"Chile joined the OECD in May 2010 {EVIL}."
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
DESKTOP = (1280, 900)
PHONE = (375, 800)
T = TypeVar("T")


# ---------------------------------------------------------------- the server


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(line) for line in out.split()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a read-only server over the corpus plus the <script> article."""
    where = tmp_path_factory.mktemp("browser")
    extra = where / "articles"
    extra.mkdir()
    (extra / "chile-oecd.txt").write_text(f"{EVIL_TITLE}\n\n{EVIL_SENTENCE}\n", encoding="utf-8")
    store = where / "store"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    environment.update(PYTHONPATH=str(ROOT), DIPLOGRAPH_QUERIES=str(QUERIES_DIR))
    ingest = subprocess.run(
        [
            sys.executable,
            "-m",
            "diplograph.cli",
            "ingest",
            str(CORPUS_DIR),
            str(extra),
            "--store",
            str(store),
            "--quiet",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stderr
    port = free_port()
    log = where / "server.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "diplograph.cli",
                "serve",
                "--store",
                str(store),
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            env=environment,
            cwd=where,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        # One answered query per worker, so that no page waits for a worker to boot.
        answered = 0
        while answered < WORKERS:
            warm_up = requests.get(
                url + "/sparql",
                params={"query": f'ASK {{ ?s ?p "warm-up {uuid.uuid4()}" }}'},
                headers={"Accept": "application/sparql-results+json"},
                timeout=30,
            )
            assert warm_up.status_code in (200, 503), warm_up.text
            answered += warm_up.status_code == 200
            if time.monotonic() > deadline:
                pytest.fail(f"the server's workers do not answer:\n{log.read_text()}")
        workers = _children(proc.pid)
        yield url
    finally:
        workers = workers or _children(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for pid in workers:  # this server's workers only, should they outlive it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- the browsers


def _chrome(javascript: bool) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    driver.set_window_size(*DESKTOP)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = _chrome(javascript=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def nojs() -> Iterator[WebDriver]:
    driver = _chrome(javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, condition: Callable[[WebDriver], T], timeout: float = 30) -> T:
    return WebDriverWait(driver, timeout).until(condition)


def click_and_load(driver: WebDriver, element: WebElement) -> None:
    """Click something that loads a new page and wait for that page."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait(driver, lambda _: _gone(page))
    wait(driver, lambda d: d.find_elements(By.TAG_NAME, "footer"))


def _gone(element: WebElement) -> bool:
    """Whether ``element``'s page has been replaced. ChromeDriver sometimes answers a look
    at an element of the page being replaced with "Node with given id does not belong to
    the document" instead of calling it stale: that means gone too."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as err:
        if "does not belong to the document" in str(err):
            return True
        raise
    return False


def result_rows(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")


def column(driver: WebDriver, name: str) -> list[str]:
    """The texts of one column of the results table, by its header."""
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#results thead th")]
    assert name in headers, headers
    i = headers.index(name)
    return [row.find_elements(By.TAG_NAME, "td")[i].text for row in result_rows(driver)]


def no_alert(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018  (the property raises when there is none)


# ---------------------------------------------------------------- the index


def test_index_lists_saved_queries_and_filters_them(server: str, browser: WebDriver) -> None:
    browser.get(server + "/")
    links = browser.find_elements(By.CSS_SELECTOR, "#query-list a[href^='/queries/']")
    assert len(links) >= 12
    listed = {a.get_attribute("pathname").removeprefix("/queries/") for a in links}
    known = {q["name"] for q in requests.get(server + "/api/queries", timeout=30).json()}
    assert listed == known
    assert listed <= {p.stem for p in QUERIES_DIR.glob("*.rq")}
    assert all(a.text.strip() for a in links)

    size = browser.find_element(By.CSS_SELECTOR, "p.size").text
    match = re.fullmatch(
        r"(\d+) articles · (\d+) entities · (\d+) memberships · (\d+) events", size
    )
    assert match, size
    articles, entities, memberships, events = map(int, match.groups())
    corpus = [p for p in CORPUS_DIR.iterdir() if p.suffix in (".txt", ".md", ".html")]
    assert articles == len(corpus) + 1
    assert entities > 0 and memberships > 0 and events > 0

    items = browser.find_elements(By.CSS_SELECTOR, "#query-list li[data-text]")
    assert all(li.is_displayed() for li in items)
    browser.find_element(By.ID, "q").send_keys("chair")
    wait(browser, lambda _: not all(li.is_displayed() for li in items))
    shown = {
        li.find_element(By.TAG_NAME, "a").get_attribute("pathname").removeprefix("/queries/")
        for li in items
        if li.is_displayed()
    }
    assert "chairmanships" in shown
    assert "articles" not in shown
    for li in items:
        assert ("chair" in li.get_attribute("data-text")) == li.is_displayed()

    # Without JavaScript the same search is a plain GET that the server filters.
    response = requests.get(server + "/", params={"q": "chair"}, timeout=30)
    assert response.status_code == 200
    assert set(re.findall(r'href="/queries/([a-z0-9-]+)"', response.text)) == shown
    assert 'value="chair"' in response.text


# ---------------------------------------------------------------- a saved query's page


def test_parameter_form_runs_and_draws_a_chart(server: str, browser: WebDriver) -> None:
    browser.get(server + "/queries/country-memberships")
    picker = Select(browser.find_element(By.ID, "p-country"))
    assert picker.first_selected_option.text == "Kazakhstan"  # the default, KAZ
    names = [o.text for o in picker.options]
    country = next(c for c in ("Turkey", "Ukraine") if c in names)
    picker.select_by_visible_text(country)
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "form.params button"))

    query = urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)
    assert query["country"][0].startswith(BASE + "id/country/")
    assert Select(browser.find_element(By.ID, "p-country")).first_selected_option.text == country
    assert browser.find_elements(By.CSS_SELECTOR, "[role=alert]") == []
    rows = result_rows(browser)
    assert rows
    assert set(column(browser, "country")) == {country}
    organizations = browser.find_elements(
        By.CSS_SELECTOR, "#results tbody a[href^='/id/organization/']"
    )
    assert organizations and all(a.text.strip() for a in organizations)
    # The display is a timeline: a server-drawn SVG with one span per dated membership.
    svg = browser.find_element(By.CSS_SELECTOR, "figure svg")
    assert svg.get_attribute("role") == "img"
    assert svg.find_elements(By.CSS_SELECTOR, "rect.span")

    browser.get(server + "/queries/organizations-by-members")
    bars = browser.find_elements(By.CSS_SELECTOR, "figure svg rect.bar")
    rows = result_rows(browser)
    assert bars and len(bars) == min(len(rows), 40)
    first = column(browser, "organization")[0]
    assert (
        bars[0]
        .find_element(By.TAG_NAME, "title")
        .get_attribute("textContent")
        .startswith(first + ": ")
    )


def test_downloads_are_csv_and_sparql_json(server: str, browser: WebDriver) -> None:
    browser.get(server + "/queries/country-memberships?country=TUR")
    shown = len(result_rows(browser))
    assert shown > 0
    csv_link = browser.find_element(By.CSS_SELECTOR, "a[download][href*='.csv']")
    json_link = browser.find_element(By.CSS_SELECTOR, "a[download][href*='.json']")
    assert "country=TUR" in csv_link.get_attribute("href")

    # The CSV as the page's own session fetches it.
    fetched = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async (r) => done(
            {status: r.status, type: r.headers.get("Content-Type"), text: await r.text()}
        )).catch((e) => done({status: 0, type: "", text: String(e)}));""",
        csv_link.get_attribute("href"),
    )
    assert fetched["status"] == 200, fetched["text"]
    assert fetched["type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(fetched["text"])))

    response = requests.get(json_link.get_attribute("href"), timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    data = response.json()
    variables = data["head"]["vars"]
    assert "organizationLabel" in variables
    assert table[0] == variables
    assert len(table) - 1 == len(data["results"]["bindings"]) == shown
    label = variables.index("countryLabel")
    assert {row[label] for row in table[1:]} == {"Turkey"}


def test_bad_parameter_shows_its_error(server: str, browser: WebDriver) -> None:
    path = "/queries/country-memberships?country=not-a-country!"
    browser.get(server + path)
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert alert.is_displayed()
    assert "country" in alert.text and "not-a-country!" in alert.text
    assert result_rows(browser) == []
    assert browser.find_element(By.ID, "p-country").is_displayed()  # the form, to fix it
    response = requests.get(server + path, timeout=30)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")


def _assert_shown_literally(driver: WebDriver) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in driver.page_source
    scripts = [s.get_attribute("textContent") for s in driver.find_elements(By.TAG_NAME, "script")]
    assert not any("alert(1)" in s for s in scripts)
    no_alert(driver)


def test_article_text_is_escaped(server: str, browser: WebDriver) -> None:
    browser.get(server + "/queries/articles")
    article = browser.find_element(By.LINK_TEXT, EVIL_TITLE).get_attribute("pathname")
    assert article.startswith("/id/article/")
    iri = BASE + article.removeprefix("/")

    browser.get(server + "/queries/article-facts?" + urllib.parse.urlencode({"article": iri}))
    assert result_rows(browser)
    summary = browser.find_element(By.CSS_SELECTOR, "#results details summary")
    summary.click()
    quote = browser.find_element(By.CSS_SELECTOR, "#results details blockquote")
    wait(browser, lambda _: quote.is_displayed())
    assert quote.text == EVIL_SENTENCE
    _assert_shown_literally(browser)
    fact = browser.find_element(By.CSS_SELECTOR, "#results a[href^='/id/membership/']")
    assert "Chile" in fact.text
    fact_iri = BASE + fact.get_attribute("pathname").removeprefix("/")

    browser.get(server + "/queries/fact-provenance?" + urllib.parse.urlencode({"fact": fact_iri}))
    assert result_rows(browser)
    _assert_shown_literally(browser)

    browser.get(server + article)
    assert EVIL in browser.find_element(By.TAG_NAME, "main").text
    _assert_shown_literally(browser)


def test_forms_work_without_javascript(server: str, nojs: WebDriver) -> None:
    nojs.get(server + "/")
    items = nojs.find_elements(By.CSS_SELECTOR, "#query-list li[data-text]")
    nojs.find_element(By.ID, "q").send_keys("chair")
    time.sleep(0.3)
    assert all(li.is_displayed() for li in items), "JavaScript is not disabled"

    nojs.get(server + "/queries/country-memberships")
    picker = Select(nojs.find_element(By.ID, "p-country"))
    country = next(c for c in ("Ukraine", "Turkey") if c in [o.text for o in picker.options])
    picker.select_by_visible_text(country)
    click_and_load(nojs, nojs.find_element(By.CSS_SELECTOR, "form.params button"))
    assert "country=" in nojs.current_url
    assert result_rows(nojs)
    assert set(column(nojs, "country")) == {country}
    assert nojs.find_elements(By.CSS_SELECTOR, "figure svg")

    nojs.get(server + "/sparql")
    editor = nojs.find_element(By.ID, "query")
    editor.clear()
    editor.send_keys(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        f"SELECT ?label WHERE {{ <{BASE}id/country/kaz> rdfs:label ?label }}"
    )
    click_and_load(nojs, nojs.find_element(By.CSS_SELECTOR, "#query-form button"))
    assert "Kazakhstan" in column(nojs, "label")


# ---------------------------------------------------------------- accessibility


UNLABELLED = """return [...document.querySelectorAll("input, select, textarea")]
    .filter((e) => e.type !== "hidden")
    .filter((e) => !e.id || !document.querySelector(`label[for="${CSS.escape(e.id)}"]`)
        || !document.querySelector(`label[for="${CSS.escape(e.id)}"]`).textContent.trim())
    .map((e) => e.outerHTML.slice(0, 200));"""
OVERFLOW = """return [document.body.scrollWidth, document.documentElement.scrollWidth,
    window.innerWidth];"""


def test_controls_are_labelled_and_pages_fit_a_phone(server: str, browser: WebDriver) -> None:
    pages = [
        "/",
        "/sparql",
        *(
            f"/queries/{q['name']}"
            for q in requests.get(server + "/api/queries", timeout=30).json()
            if q.get("params")
        ),
    ]
    assert "/queries/country-memberships" in pages
    for path in pages:
        browser.get(server + path)
        controls = browser.find_elements(By.CSS_SELECTOR, "main input, main select, main textarea")
        assert controls, path
        assert browser.execute_script(UNLABELLED) == [], path

    tables = [
        "/queries/country-memberships",
        "/queries/organization-members",
        "/queries/organizations-by-members",
        "/sparql?"
        + urllib.parse.urlencode(
            {"format": "html", "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 20"}
        ),
    ]
    browser.set_window_size(*PHONE)
    try:
        assert browser.execute_script("return window.innerWidth") <= PHONE[0]
        for path in tables:
            browser.get(server + path)
            table = browser.find_element(By.ID, "results")
            assert table.is_displayed()
            assert browser.execute_script("return !!arguments[0].closest('.table-wrap')", table)
            body, document, width = browser.execute_script(OVERFLOW)
            assert body <= width + 2, f"{path}: the page is {body}px wide in {width}px"
            assert document <= width + 2, f"{path}: the page is {document}px wide in {width}px"
    finally:
        browser.set_window_size(*DESKTOP)


# ---------------------------------------------------------------- the SPARQL page


def test_sparql_page_errors_and_examples(server: str, browser: WebDriver) -> None:
    browser.get(server + "/sparql")
    editor = browser.find_element(By.ID, "query")
    editor.clear()
    malformed = "SELECT ?x WHERE { ?x ?y }"
    editor.send_keys(malformed)
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "#query-form button"))
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert alert.is_displayed()
    assert re.search(r"\b1:\d+", alert.text), alert.text
    assert browser.find_element(By.ID, "query").get_attribute("value") == malformed
    response = requests.get(
        server + "/sparql", params={"query": malformed, "format": "html"}, timeout=30
    )
    assert response.status_code == 400

    examples = browser.find_element(By.XPATH, "//details[summary[contains(., 'Examples')]]")
    examples.find_element(By.TAG_NAME, "summary").click()
    example = examples.find_element(By.LINK_TEXT, "Articles in the graph")
    wait(browser, lambda _: example.is_displayed())
    click_and_load(browser, example)
    text = browser.find_element(By.ID, "query").get_attribute("value")
    assert text.strip() == (QUERIES_DIR / "articles.rq").read_text(encoding="utf-8").strip()
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "#query-form button"))
    assert browser.find_elements(By.CSS_SELECTOR, "[role=alert]") == []
    corpus = [p for p in CORPUS_DIR.iterdir() if p.suffix in (".txt", ".md", ".html")]
    assert len(result_rows(browser)) == len(corpus) + 1
