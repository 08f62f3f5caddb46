"""The pages in a real headless Chromium (Debian chromium + chromium-driver): open, click through, search, render."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; "
                ".ci/run installs them)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
pytest.importorskip("uvicorn", reason="the web extra is not installed")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_web import Server  # noqa: E402

from storytrace.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def server(web_store: Path) -> Iterator[Server]:
    s = Server(create_app(web_store))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    profile = tempfile.mkdtemp(prefix="storytrace-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1280,1600"]:
        options.add_argument(arg)
    # An explicit driver path: selenium must not try to download one.
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_every_page_opens(browser: object, server: Server) -> None:
    for path, heading in [("/", "Corpus overview"), ("/stories", "Stories"), ("/actors", "Actors"),
                          ("/articles", "Articles"), ("/search", "Quote search"), ("/stories/1", None)]:
        browser.get(server.base + path)
        h1 = browser.find_element(By.TAG_NAME, "h1").text
        assert h1 if heading is None else h1 == heading, path
        assert not browser.find_elements(By.CSS_SELECTOR, "p.error")


def test_follow_a_quote_to_its_highlighted_sentence(browser: object, server: Server) -> None:
    browser.get(server.base + "/actors")
    browser.find_element(By.LINK_TEXT, "Len McCluskey").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Len McCluskey"
    quote = browser.find_element(By.CSS_SELECTOR, "li.quote")
    said = quote.find_element(By.TAG_NAME, "blockquote").text
    quote.find_element(By.CSS_SELECTOR, "a.cite").click()
    assert "#cited" in browser.current_url
    cited = browser.find_element(By.ID, "cited")
    assert cited.is_displayed()
    marked = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#text .m-cited"))
    assert marked.split()[:4] == said.split()[:4]
    colour = cited.value_of_css_property("background-color")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")  # visibly highlighted


def test_story_citation_leads_to_the_article(browser: object, server: Server) -> None:
    browser.get(server.base + "/stories/1")
    browser.find_element(By.CSS_SELECTOR, "ol.brief a.cite").click()
    assert browser.find_element(By.ID, "cited").text.strip()


def test_run_a_search(browser: object, server: Server) -> None:
    browser.get(server.base + "/search")
    box = browser.find_element(By.CSS_SELECTOR, "form.filters input[name=q]")
    box.send_keys("lynching")
    browser.find_element(By.ID, "search-button").click()
    WebDriverWait(browser, 10).until(lambda d: "q=lynching" in d.current_url)
    results = browser.find_elements(By.CSS_SELECTOR, "#results li.quote")
    assert results and all("lynching" in r.text.lower() for r in results)


def test_markup_in_an_article_shows_as_text(browser: object, server: Server) -> None:
    browser.get(server.base + "/search?q=politics")
    browser.find_element(By.CSS_SELECTOR, "#results a.cite").click()
    text = browser.find_element(By.ID, "text").text
    assert "<script>alert('quote')</script>" in text
    assert browser.execute_script("return document.scripts.length") == 0
    assert "<script>" in browser.find_element(By.TAG_NAME, "h1").text


def test_the_network_graph_renders(browser: object, server: Server) -> None:
    Image = pytest.importorskip("PIL.Image", reason="pillow is not installed (test extra)")
    browser.get(server.base + "/stories/1")
    graph = browser.find_element(By.ID, "network")
    assert len(graph.find_elements(By.CSS_SELECTOR, "line.edge")) >= 2
    assert len(graph.find_elements(By.CSS_SELECTOR, "g.node")) >= 3
    image = Image.open(io.BytesIO(graph.screenshot_as_png)).convert("RGB")
    pixels = image.tobytes()
    coloured = sum(1 for i in range(0, len(pixels), 3) if min(pixels[i:i + 3]) < 240)
    assert coloured > 0.01 * image.width * image.height, "the graph screenshot is blank"


def test_a_new_user_finds_what_mccluskey_said_where_how_differently_and_how_his_stance_changed(
        browser: object, server: Server) -> None:
    """The issue's walk, by clicking only, from the overview: what did McCluskey say, in which outlets, with
    what differences between the outlets' versions, and how did his stance change."""
    browser.get(server.base + "/")
    # The overview's list of actors (its top-speakers list leads to quote search instead).
    browser.find_element(By.XPATH, "//a[starts-with(@href, '/actors/') and text()='Len McCluskey']").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Len McCluskey"
    actor_url = browser.current_url
    # What he said, and where: his quotes, each with its outlet.
    quotes = browser.find_elements(By.CSS_SELECTOR, "ol.quotes li.quote")
    assert quotes and all(q.find_element(By.TAG_NAME, "blockquote").text for q in quotes)
    outlets = {q.find_element(By.CSS_SELECTOR, ".meta").text.split(" · ")[1] for q in quotes}
    assert len(outlets - {"unknown outlet"}) >= 2, outlets
    # With what differences: one utterance in several outlets, the differences marked word by word.
    group = browser.find_element(By.CSS_SELECTOR, "#variants div.variant")
    versions = group.find_elements(By.CSS_SELECTOR, "li")
    assert len(versions) >= 2
    assert len({v.find_element(By.CSS_SELECTOR, ".meta").text.split(" · ")[0] for v in versions}) >= 2
    assert group.find_elements(By.CSS_SELECTOR, ".diff del, .diff ins")
    said = versions[0].find_element(By.CSS_SELECTOR, "a.cite").text
    versions[0].find_element(By.CSS_SELECTOR, "a.cite").click()
    assert browser.find_element(By.ID, "cited").is_displayed()
    marked = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#text .m-cited"))
    assert marked.split()[:4] == said.split()[:4]
    # How his stance changed: support, then opposition, on the chart and in words, each point citing an article.
    browser.get(actor_url)
    stances = browser.find_element(By.CSS_SELECTOR, "ul.stances").text
    assert "changed" in stances and "support→oppose" in stances
    chart = browser.find_element(By.ID, "stance-chart")
    assert chart.find_elements(By.CSS_SELECTOR, "circle.p-support") and \
        chart.find_elements(By.CSS_SELECTOR, "circle.p-oppose")
    chart.find_element(By.CSS_SELECTOR, "circle.p-oppose").click()
    WebDriverWait(browser, 10).until(lambda d: "/articles/" in d.current_url)
    assert "/articles/" in browser.current_url and browser.find_element(By.ID, "text").text
