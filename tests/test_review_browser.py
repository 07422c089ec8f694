"""The review page in a real browser: the Debian Chromium, headless, driven by Playwright
(`executable_path`, so Playwright downloads no browser) against the app served by uvicorn.

Steps: log in, open the queue and the thyroid report, see every evidence span highlighted and
linked to its result, correct the TI-RADS category from the keyboard, accept the rest, and
check the written Provenance and verified SR; correct an entity's kind the same way.
Keystrokes are counted and printed; screenshots go to the test's tmp folder (the paths are
printed; `pytest -s` shows them).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from pydicom import dcmread

from radlite_fhir.review.app import review_app
from radlite_fhir.review.auth import add_reviewer
from radlite_fhir.review.settings import ReviewSettings
from tests.test_review_data import build_queue

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs the Debian package chromium (apt-get install)"
)
expect = playwright.expect
WAIT_MS = 30_000  # bounded waits on conditions, never asserted as timings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, ReviewSettings]]:
    build_queue(tmp_path / "queue")
    add_reviewer(tmp_path / "reviewers.toml", "jdoe", "Jane Doe", "s3cret")
    settings = ReviewSettings(tmp_path / "queue", tmp_path / "state", tmp_path / "reviewers.toml")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(review_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", settings
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def page(served: tuple[str, ReviewSettings]) -> Iterator[object]:
    base, _ = served
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        tab.goto(f"{base}/review/")
        tab.fill("input[name=username]", "jdoe")
        tab.fill("input[name=password]", "s3cret")
        tab.click("button:has-text('Log in')")
        tab.wait_for_selector("table.queue")
        yield tab
        browser.close()


def _open_thyroid(tab) -> None:
    tab.click("a:has-text('US Thyroid')")
    tab.wait_for_selector("li.item.focus")


def test_a_right_report_of_four_results_clears_in_four_keystrokes(
    page, served: tuple[str, ReviewSettings]
) -> None:
    tab = page
    _, settings = served
    _open_thyroid(tab)
    report_url = tab.url
    assert tab.locator("li.item").count() == 4
    keystrokes = 0
    for _ in range(4):
        tab.keyboard.press("a")
        keystrokes += 1
        if keystrokes < 4:
            expect(tab.locator("li.item[data-state]")).to_have_count(keystrokes)
    tab.wait_for_url(lambda url: url != report_url)  # signed off, moved to the next report
    print(f"\nkeystrokes to clear a 4-result report the AI got right: {keystrokes} (target 4)")
    assert keystrokes <= 4
    bundles = list(settings.outbox.glob("*.review-1.json"))
    assert len(bundles) == 1
    resources = [e["resource"] for e in json.loads(bundles[0].read_text("utf-8"))["entry"]]
    assert [r["status"] for r in resources if r["resourceType"] == "Observation"] == ["final"] * 4
    # The next report (mammogram, 6 results) clears with one keystroke: A accepts all.
    tab.wait_for_selector("li.item.focus")
    assert tab.locator("li.item").count() == 6
    tab.keyboard.press("A")
    tab.wait_for_selector("table.queue")  # nothing open is left: back to the queue
    assert tab.locator("td", has_text="signed off").count() == 2
    assert len(list(settings.outbox.glob("*.review-1.json"))) == 2


def test_correct_a_rads_category_in_the_browser_and_confirm_the_write_back(
    page, served: tuple[str, ReviewSettings], tmp_path: Path
) -> None:
    tab = page
    _, settings = served
    _open_thyroid(tab)
    marks = tab.locator("#report-text mark")
    assert marks.count() >= 6  # the lesion and each deciding feature
    rads = tab.locator("li.item", has_text="TI-RADS 4")
    rads.locator(".label").hover()
    assert tab.locator("mark.hl").count() >= 1  # result -> span
    highlighted = "".join(tab.locator("mark.hl").all_inner_texts())
    assert "solid hypoechoic nodule" in highlighted  # the lesion the category rests on
    tab.locator("mark").first.hover()
    assert tab.locator("li.item.hl").count() >= 1  # span -> result
    assert tab.locator("li.item", has_text="generated by AI").count() == 1
    shot = tmp_path / "review-report.png"
    tab.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")

    report_url = tab.url
    rads.click()
    keys = ["c", "ArrowDown", "Enter", "A"]  # correct TI-RADS 4 -> 5, accept the other three
    tab.keyboard.press(keys[0])
    tab.wait_for_selector("li.item.correcting select")
    for key in keys[1:3]:
        tab.keyboard.press(key)
    tab.wait_for_selector("li.item[data-state=correct]")
    shot = tmp_path / "review-corrected.png"
    tab.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    tab.keyboard.press(keys[3])
    tab.wait_for_url(lambda url: url != report_url)
    print(f"keystrokes to correct one category and accept the rest: {len(keys)}")

    bundle = json.loads(next(settings.outbox.glob("us-thyroid*.review-1.json")).read_text("utf-8"))
    resources = [e["resource"] for e in bundle["entry"]]
    corrected = next(
        r for r in resources if r.get("valueCodeableConcept", {}).get("text") == "TI-RADS 5"
    )
    assert corrected["status"] == "final"
    provenance = resources[-1]
    assert provenance["resourceType"] == "Provenance"
    assert provenance["agent"][0]["who"]["display"] == "Jane Doe"
    assert {a["type"]["coding"][0]["code"] for a in provenance["agent"]} == {"verifier", "author"}
    sr = dcmread(next(settings.outbox.glob("us-thyroid*.verified-1.sr.dcm")))
    assert sr.VerificationFlag == "VERIFIED"
    assert "TR5" in str(sr.ContentSequence)
    assert "PredecessorDocumentsSequence" in sr
    print(f"written: {[p.name for p in sorted(settings.outbox.iterdir())]}")


def test_correct_an_entity_kind_from_the_keyboard(page, served: tuple[str, ReviewSettings]) -> None:
    """An entity's kind is corrected like a RADS category: pick another kind of the entity
    vocabulary, Enter; the written Observation carries the chosen kind."""
    tab = page
    _, settings = served
    tab.locator("table.queue a").first.click()  # the mammogram: its low-confidence cN1 first
    tab.wait_for_selector("li.item.focus")
    entity = tab.locator("li.item", has_text="skin thickening")
    entity.click()
    report_url = tab.url
    keys = ["c", "ArrowDown", "Enter", "A"]  # observation_absent -> observation_uncertain
    tab.keyboard.press(keys[0])
    tab.wait_for_selector("li.item.correcting select")
    options = tab.locator("li.item.correcting select option").all_inner_texts()
    assert options == [
        "anatomy",
        "observation present",
        "observation absent",
        "observation uncertain",
    ]
    for key in keys[1:3]:
        tab.keyboard.press(key)
    expect(entity).to_have_attribute("data-state", "correct")
    tab.keyboard.press(keys[3])
    tab.wait_for_url(lambda url: url != report_url)
    print(f"\nkeystrokes to correct one entity's kind and accept the rest: {len(keys)}")
    bundle = json.loads(next(settings.outbox.glob("mammo*.review-1.json")).read_text("utf-8"))
    corrected = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("valueString") == "skin thickening"
    )
    assert corrected["code"]["text"].lower().endswith("uncertain")
    assert corrected["status"] == "final"
