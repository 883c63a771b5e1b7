"""The queue in a real browser: signing in, keyboard shortcuts, bulk actions, hostile comments.

The real app serves from a thread over a temporary SQLite database; Playwright drives the system
chromium (/usr/bin/chromium). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from model import DEFAULT_MODEL_DIR
from service import create_app
from service.db import get_session
from service.models import Role, Site
from service.settings import Settings
from service.sites import add_site, set_thresholds
from service.users import add_user
from service.webhook_signature import verify
from service.webhooks import set_webhook
from tests.conftest import PROJECT_ROOT
from tests.service.conftest import PASSWORD, QUEUE_THRESHOLDS, SPAM_TEXT, UNSURE_TEXT
from tests.service.webhook_helpers import SECRET, Receiver

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
BROWSER_HELP = (
    f"no chromium at {CHROMIUM}: install it with `apt-get install chromium` "
    "(SPAMWARD_REQUIRE_BROWSER=1 turns this skip into a failure)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system chromium under Playwright; skipped (or failed in CI) when it is missing."""
    if not CHROMIUM.is_file():
        if os.environ.get("SPAMWARD_REQUIRE_BROWSER") == "1":
            pytest.fail(BROWSER_HELP)
        pytest.skip(BROWSER_HELP)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class LiveSite:
    """The app served over HTTP, alice's API key for storing checks, and her webhook receiver."""

    app: Flask
    url: str
    key: str
    receiver: Receiver

    def check(self, content: str, **fields: str) -> dict[str, Any]:
        response = self.app.test_client().post(
            "/api/v1/check",
            json={"comment_content": content, **fields},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.get_json()
        return answer


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveSite]:
    """The real app on 127.0.0.1 (a free port) with alice's site and moderator carol."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'spamward.sqlite'}",
        model_dir=DEFAULT_MODEL_DIR,
        site_cache_seconds=0,
        write_behind=False,
        secret_key="a browser test secret key",
        webhooks=True,  # decisions reach alice's receiver, as in production
        model_poll_seconds=0,
    )
    app = create_app({"TESTING": True, "SETTINGS": settings})
    receiver = Receiver()
    with app.app_context():
        session = get_session()
        new = add_site(session, "https://alice.example", "Alice's blog")
        set_thresholds(session, session.get_one(Site, new.site.id), QUEUE_THRESHOLDS)
        set_webhook(session, session.get_one(Site, new.site.id), receiver.url, SECRET)
        add_user(session, "carol", PASSWORD, Role.MODERATOR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveSite(app, f"http://127.0.0.1:{server.server_port}", new.key, receiver)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["spamward.webhooks"].close()
        receiver.stop()
        app.extensions["spamward.engine"].dispose()


@dataclass
class Tab:
    """A browser page that records console errors (CSP violations land there) and JS errors."""

    page: Any
    errors: list[str]

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


@pytest.fixture
def tab(browser: Any, live: LiveSite) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield Tab(page, errors)
    context.close()


def sign_in(tab: Tab, live: LiveSite) -> None:
    page = tab.page
    page.goto(f"{live.url}/moderate/")
    page.fill('input[name="name"]', "carol")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{live.url}/moderate/")


def screenshot(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def count(tab: Tab, decision: str) -> int:
    return int(tab.page.text_content(f'.count[data-decision="{decision}"] b') or "-1")


def shown_ids(tab: Tab) -> list[int]:
    ids = tab.page.eval_on_selector_all("article.item", "items => items.map(i => i.dataset.id)")
    return [int(i) for i in ids]


def test_a_moderator_signs_in_and_sees_the_flagged_items_and_counts(
    tab: Tab, live: LiveSite
) -> None:
    spam = live.check(SPAM_TEXT, comment_author="Cheap Pills")
    unsure = live.check(UNSURE_TEXT)
    sign_in(tab, live)
    assert shown_ids(tab) == [unsure["id"], spam["id"]]
    assert (count(tab, "spam"), count(tab, "unsure")) == (1, 1)
    assert tab.page.locator("mark.spammy").count() > 0
    assert tab.page.is_visible("#select-all")  # shown by the script, so the script ran
    screenshot(tab, "queue")
    assert tab.csp_violations() == []
    assert tab.errors == []


def test_j_then_a_approves_the_first_item(tab: Tab, live: LiveSite) -> None:
    older = live.check(SPAM_TEXT + " one")
    newer = live.check(SPAM_TEXT + " two")
    sign_in(tab, live)
    tab.page.keyboard.press("j")
    assert tab.page.evaluate("document.activeElement.dataset.id") == str(newer["id"])
    tab.page.keyboard.press("a")
    tab.page.wait_for_selector(".flash.info")
    assert "Approved: 1 comment." in (tab.page.text_content(".flashes") or "")
    assert shown_ids(tab) == [older["id"]]
    assert count(tab, "spam") == 1
    screenshot(tab, "after-keyboard-approve")
    assert tab.errors == []


def test_x_and_checkboxes_select_items_for_a_bulk_spam(tab: Tab, live: LiveSite) -> None:
    ids = [live.check(f"{UNSURE_TEXT} {n}")["id"] for n in range(4)]
    sign_in(tab, live)
    assert count(tab, "unsure") == 4
    tab.page.keyboard.press("j")
    tab.page.keyboard.press("x")  # the newest, by keyboard
    tab.page.check(f'#check-{ids[1]} input[name="check"]')  # another, by mouse
    screenshot(tab, "selection")
    tab.page.click('button[name="action"][value="spam"]')
    tab.page.wait_for_selector(".flash.info")
    assert "Marked as spam: 2 comments." in (tab.page.text_content(".flashes") or "")
    assert shown_ids(tab) == [ids[2], ids[0]]
    assert count(tab, "unsure") == 2
    assert tab.errors == []


def test_select_all_marks_every_item_on_the_page(tab: Tab, live: LiveSite) -> None:
    for n in range(3):
        live.check(f"{SPAM_TEXT} {n}")
    sign_in(tab, live)
    tab.page.check("#select-all")
    tab.page.click('button[name="action"][value="delete"]')
    tab.page.wait_for_selector(".flash.info")
    assert shown_ids(tab) == []
    assert count(tab, "spam") == 0


def test_hostile_comments_stay_inert_in_the_browser(tab: Tab, live: LiveSite) -> None:
    script = "<script>window.__xss=1</script>"
    image = '<img src=x onerror="window.__xss=1">'
    live.check(
        f"{script} cheap pills {image}",
        comment_author=image,
        comment_author_url="javascript:window.__xss=1",
        permalink="data:text/html,<script>window.__xss=1</script>",
    )
    live.check(f"{SPAM_TEXT} {script}", comment_author=script)
    sign_in(tab, live)
    page = tab.page
    page.wait_for_timeout(300)  # room for any onerror handler to have fired
    assert page.evaluate("typeof window.__xss") == "undefined"
    contents = page.eval_on_selector_all(".content", "ps => ps.map(p => p.textContent)")
    assert any(script in text and image in text for text in contents)
    authors = page.eval_on_selector_all(".author", "ds => ds.map(d => d.textContent)")
    assert image in authors and script in authors
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]
    assert page.locator("main img").count() == 0
    screenshot(tab, "hostile-comments")
    assert tab.csp_violations() == []


def test_the_sites_webhook_receives_signed_events_for_the_decisions_made_in_the_browser(
    tab: Tab, live: LiveSite
) -> None:
    approved = live.check(SPAM_TEXT + " first")
    spammed = live.check(SPAM_TEXT + " second")
    sign_in(tab, live)
    tab.page.keyboard.press("j")  # the newest: `spammed`
    tab.page.keyboard.press("s")
    tab.page.wait_for_selector(".flash.info")
    tab.page.keyboard.press("j")
    tab.page.keyboard.press("a")
    tab.page.wait_for_selector(".flash.info")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(live.receiver.requests) < 2:
        time.sleep(0.1)
    events = []
    for request in live.receiver.requests:
        verify(SECRET, request.headers.get("X-Spamward-Signature"), request.body)  # raises if bad
        events.append(json.loads(request.body))
    assert sorted((e["comment_id"], e["action"], e["moderator"]) for e in events) == [
        (approved["id"], "approve", "carol"),
        (spammed["id"], "spam", "carol"),
    ]
    assert tab.errors == []
