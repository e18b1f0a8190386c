"""Browser journeys in headless Chromium against `streamlit run app.py` on a local port: the tests
that only look share one app (`page`, `shared_at`); those that change it start their own
(`own_page`, `browser_at`)."""

import csv
import http.server
import io
import json
import re
import shutil
import threading

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from lib.auth import audit, users
from tests.browser import (
    ROOT,
    AppServer,
    contexts,
    edit_grid_cell,
    grid_cell,
    open_tab,
    settle,
    sign_in,
)
from tests.conftest import PASSWORD
from tests.corpus import HEAD, row
from tests.test_presets import QIANNIU

pytestmark = pytest.mark.browser
expect.set_options(timeout=20000)  # a loaded 2-core machine can take a while per run

NAV = ["Overview", "Agent scorecard", "Weights & thresholds", "Upload data", "Coaching",
       "Improvement plans", "Recognition & bonus", "Monitoring", "Quality reviews", "QA calibration", "Users",
       "Audit log", "Account"]  # fmt: skip


@pytest.fixture
def browser_at(demo_copy, accounts, chromium):
    """(new_tab, app): tabs, each in a fresh browser context, on an app of the test's own (a
    copy of the demo store and of the accounts), for tests that change what is stored."""
    with AppServer(demo_copy) as app, contexts(chromium) as new_context:
        yield lambda: open_tab(new_context(), app.url), app


@pytest.fixture
def own_page(demo_copy, accounts, chromium):
    """The overview, signed in as admin (by a login cookie the accounts file signs), on an app
    of the test's own. Signing in through the form is what other tests check."""
    with AppServer(demo_copy) as app, contexts(chromium) as new_context:
        context = new_context()
        context.add_cookies([{"name": users.cookie(accounts)["name"], "url": app.url,
                              "value": users.make_token(accounts, "admin"), "httpOnly": True,
                              "sameSite": "Strict"}])  # fmt: skip
        yield overview_drawn(open_tab(context, app.url))


@pytest.fixture(scope="session")
def shared_app(demo_store, accounts_file, tmp_path_factory):
    """One app on the demo for the tests that only look (and sign in): started once per test
    run. Tests that store, save, sign out or fail a sign-in use `browser_at` or `own_page`."""
    folder = tmp_path_factory.mktemp("shared_app")
    db, auth = folder / "demo.duckdb", folder / "auth.yaml"
    shutil.copy(demo_store, db)
    shutil.copy2(accounts_file, auth)
    with AppServer(db, env={"SCORECARD_AUTH": str(auth)}) as app:
        app.auth = auth
        yield app


@pytest.fixture
def shared_at(shared_app, chromium):
    """(new_tab, app) as `browser_at`, on the shared app: fresh contexts, nobody signed in."""
    with contexts(chromium) as new_context:
        yield lambda: open_tab(new_context(), shared_app.url), shared_app


@pytest.fixture(scope="session")
def admin_context(shared_app, chromium):
    """A browser context signed in as admin on the shared app, holding the login cookie."""
    with contexts(chromium) as new_context:
        context = new_context()
        tab = open_tab(context, shared_app.url)
        sign_in(tab, "admin", PASSWORD)
        for _ in range(100):  # the browser trades the hand-over code for the cookie
            if context.cookies():
                break
            tab.wait_for_timeout(100)
        tab.close()
        yield context


@pytest.fixture
def page(admin_context, shared_app):
    """The overview on the shared app, as admin: a new tab (a new session, signed in by the
    cookie), closed after the test."""
    tab = overview_drawn(open_tab(admin_context, shared_app.url))
    yield tab
    tab.close()


def overview_drawn(tab):
    """`tab` once the demo's overview is fully drawn."""
    expect(tab.get_by_text("You are looking at demo data")).to_be_visible()
    expect(tab.get_by_role("heading", name="Leaderboard")).to_be_visible()
    settle(tab)
    return tab


def ending(names):
    """Link texts end with the page name (an icon's ligature comes first)."""
    return [re.compile(re.escape(n) + "$") for n in names]


def no_error(tab):
    expect(tab.locator("[data-testid='stException']")).to_have_count(0)


def pick(tab, label: str, option) -> None:
    """Open the selectbox `label` and click `option` (a text, or a pattern). A list opened
    while the page still reruns can close again: it is opened again until the click lands."""
    settle(tab)
    choice = tab.get_by_role(
        "option", name=option, **({"exact": True} if isinstance(option, str) else {})
    )
    for attempt in range(4):
        tab.get_by_role("combobox", name=label).click()
        try:
            choice.click(timeout=5000)
            break
        except PlaywrightError:
            if attempt == 3:
                raise
            tab.keyboard.press("Escape")
            settle(tab)
    settle(tab)


def test_every_page_opens_with_the_frame(page, artifacts):
    for name in NAV:
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        expect(page.get_by_text("You are looking at demo data")).to_be_visible()
        no_error(page)
        settle(page)
        page.screenshot(path=artifacts / f"page_{name.split()[0].lower()}.png", full_page=True)


def test_no_page_asks_anything_of_another_server(admin_context, shared_app):
    """A self-hosted app works offline: every request a page makes goes to the app itself
    (the favicon too: a Material icon as page icon was fetched from Google's font server)."""
    origin = shared_app.url.rstrip("/")
    asked = []
    tab = admin_context.new_page()
    tab.on("request", lambda request: asked.append(request.url))
    tab.set_default_timeout(30000)
    try:
        tab.goto(shared_app.url)
        overview_drawn(tab)
        for name in NAV:
            tab.get_by_role("link", name=name).click()
            expect(tab.get_by_role("heading", name=name, exact=True)).to_be_visible()
            settle(tab)
    finally:
        tab.close()
    elsewhere = [u for u in asked if not u.startswith((origin, "data:", "blob:"))]
    assert asked and elsewhere == []


def test_language_switch(page, artifacts):
    pick(page, "Language", "简体中文")
    expect(page.get_by_role("heading", name="总览")).to_be_visible()
    expect(page.get_by_text("当前显示的是演示数据")).to_be_visible()
    page.get_by_role("link", name="上传数据").click()
    expect(page.get_by_role("heading", name="上传数据")).to_be_visible()  # the choice persists
    page.screenshot(path=artifacts / "language_zh.png", full_page=True)


def test_upload_a_chinese_export_and_download_the_quarantine(own_page, tmp_path, artifacts):
    page = own_page
    path = tmp_path / "千牛客服绩效_10月.csv"
    body = (
        QIANNIU.replace("2026/05/01", "2026/10/01") + "小林,2026/10/02,1,1,1,1,,50,50,x秒,,,,,,\n"
    )
    path.write_bytes(body.encode("gb18030"))
    page.get_by_role("link", name="Upload data").click()
    page.locator("input[type='file']").set_input_files(str(path))
    expect(
        page.get_by_text("Presets that fit this file: 千牛/赤兔 客服绩效 per-agent daily export")
    ).to_be_visible()
    expect(page.get_by_text("Preview of the first rows as they will be stored")).to_be_visible()
    page.get_by_role("button", name="Store").click()
    expect(page.get_by_text("Accepted + duplicates + quarantined = 3 = rows read.")).to_be_visible()
    no_error(page)
    page.screenshot(path=artifacts / "upload_result.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download quarantine report (CSV)").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    # In the page's language (English here): headers in words, the reason as shown.
    assert [(r["row"], r["column"], r["reason"], r["value"]) for r in rows] == [
        ("6", "平均响应时长(秒)", "not a duration", "x秒")
    ]


def test_clear_demo_data(own_page):
    page = own_page
    # The first click after signing in must count (see the one-time rerun in app.py).
    page.get_by_role("button", name="Clear demo data").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Your own uploads stay")).to_be_visible()
    dialog.get_by_role("button", name="Clear demo data").click()
    expect(page.get_by_text("Demo data removed")).to_be_visible()
    expect(page.get_by_text("You are looking at demo data")).to_have_count(0)
    expect(page.get_by_text("No data yet.")).to_be_visible()


def test_an_owners_first_chinese_upload_after_clearing_the_demo(own_page, tmp_path, artifacts):
    page = own_page
    from tests.test_trust import QIANNU, _qianniu_speed

    page.get_by_role("button", name="Clear demo data").click()
    page.get_by_role("dialog").get_by_role("button", name="Clear demo data").click()
    expect(page.get_by_text("No data yet.")).to_be_visible()
    path = tmp_path / "千牛客服绩效_5月.csv"
    path.write_bytes(QIANNU.encode("gb18030"))
    page.get_by_role("link", name="Upload data").click()
    page.locator("input[type='file']").set_input_files(str(path))
    expect(page.get_by_text("Preview of the first rows as they will be stored")).to_be_visible()
    page.get_by_role("button", name="Store").click()
    expect(
        page.get_by_text("Accepted + duplicates + quarantined = 84 = rows read.")
    ).to_be_visible()
    for name in NAV:
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        settle(page)
        no_error(page)
        expect(page.get_by_text("could not be shown")).to_have_count(0)
    page.get_by_role("link", name="Overview").click()
    speed = page.get_by_test_id("stMetric").filter(has_text="Average response time")
    expect(speed).to_contain_text(f"{_qianniu_speed():.0f} s")  # the 千牛 figure
    trend = page.get_by_role("combobox", name="KPI trend")
    expect(trend).to_have_value("Average response time")  # the default trend has data
    expect(page.get_by_text("KPIs without data, and rows left out")).to_be_visible()
    page.screenshot(path=artifacts / "owner_first_upload.png", full_page=True)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a selectbox by typing it and pressing Enter (the first match), so
    a long list needs no scrolling; then wait until the box shows it."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    box.fill(option)
    expect(page.get_by_role("option", name=option, exact=True)).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value(option)
    settle(page)


def test_building_a_mapping_with_combined_columns_and_values(own_page, tmp_path, artifacts):
    page = own_page
    path = tmp_path / "calls.csv"
    path.write_text("Call Id,Agent,Date,Time,Answered (Y/N)\nC1,Ann,2026-10-01,9:12:58,Y\n"
                    "C2,Ann,2026-10-01,9:47:31,N\nC3,Bob,2026-10-02,10:00:29,Y\n",
                    encoding="utf-8")  # fmt: skip
    page.get_by_role("link", name="Upload data").click()
    page.locator("input[type='file']").set_input_files(str(path))
    page.get_by_text("Build my own mapping instead of a preset").click()
    settle(page)
    choose(page, "Table this file feeds", "Tickets")
    choose(page, "ticket_id *", "Call Id")
    choose(page, "agent *", "Agent")
    choose(page, "answered", "Answered (Y/N)")
    page.get_by_text("More options for real exports").click()
    choose(page, "Combine into field", "created_at")
    for part in ("Date", "Time"):
        page.get_by_role("combobox", name="Columns joined with a space (in this order)").click()
        page.get_by_role("option", name=part, exact=True).click()
        settle(page)
    page.keyboard.press("Escape")
    choose(page, "Field whose values to translate", "answered")
    for value, means in (("Y", "true"), ("N", "false")):
        box = page.get_by_role("textbox", name=f"{value} →")
        box.fill(means)
        box.press("Enter")
        settle(page)
    name = page.get_by_role("textbox", name="Name for this mapping")
    name.fill("call_log")
    name.press("Enter")
    settle(page)
    expect(page.get_by_text("Preview of the first rows as they will be stored")).to_be_visible()
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("Mapping 'call_log' saved as version 1")).to_be_visible()
    page.get_by_role("button", name="Store").click()
    expect(page.get_by_text("Accepted + duplicates + quarantined = 3 = rows read.")).to_be_visible()
    no_error(page)
    page.screenshot(path=artifacts / "mapping_builder.png", full_page=True)


def test_changing_a_weight_reranks_at_once(page, artifacts):
    page.get_by_role("link", name="Weights & thresholds").click()
    expect(page.get_by_text("Ranking with these weights")).to_be_visible()
    expect(page.get_by_text("▲")).to_have_count(0)  # the saved weights: nobody moves
    edit_grid_cell(page, grid_index=0, row="Sales", column="Weight", value="200")
    # The grid's cells are drawn on a canvas; its accessible copy holds the text.
    expect(page.get_by_text("▲").first).to_be_attached(timeout=15000)
    expect(page.get_by_text("Sales weight 20 → 200")).to_be_visible()
    no_error(page)
    page.screenshot(path=artifacts / "weights_changed.png", full_page=True)


def new_plan_for_csat(trainer, target_label: str):
    """Open Plans → New plan and pick CSAT; returns the CSAT target input."""
    trainer.get_by_role("link", name="Improvement plans").click()
    expect(trainer.get_by_role("heading", name="Improvement plans")).to_be_visible()
    trainer.get_by_role("tab", name="New plan").click()
    settle(trainer)
    target = trainer.get_by_label(target_label)
    for _ in range(4):  # a pick made while the page still reruns can be dropped: pick again
        trainer.get_by_label("KPIs to improve").click()
        option = trainer.get_by_role("option", name="CSAT", exact=True)
        if option.count():
            option.click()
        trainer.keyboard.press("Escape")
        settle(trainer)
        if target.count():
            break
    return target


def scorecard_csv(page) -> list[dict]:
    with page.expect_download() as download:
        page.get_by_role("button", name="Scorecard (CSV)").click()
    return list(csv.DictReader(open(download.value.path(), encoding="utf-8-sig")))


def test_saved_weights_in_force_from_the_period_change_the_overview_and_a_restore_is_followed(
    own_page, artifacts
):
    """Saving new weights while October is on screen scores October with them (the default
    "in force from" is the period's first day); restoring version 1 puts its weights back in
    the editor at once."""
    page = own_page
    expect(page.get_by_text("version 1, the built-in preset")).to_be_visible()
    before = {r["Agent"]: r["Score"] for r in scorecard_csv(page)}
    page.get_by_role("link", name="Weights & thresholds").click()
    expect(page.get_by_text("Ranking with these weights")).to_be_visible()
    edit_grid_cell(page, grid_index=0, row="Sales", column="Weight", value="200")
    expect(page.get_by_text("Sales weight 20 → 200")).to_be_visible()
    page.get_by_label("Why are you changing it?").fill("sales push this quarter")
    for part, value in (("year", "2026"), ("month", "10"), ("day", "1")):  # the period viewed
        field = page.get_by_role("spinbutton", name=f"{part}, In force from")
        expect(field).to_have_attribute("aria-valuenow", value)
    page.get_by_label("Why are you changing it?").press("Enter")
    settle(page)
    page.get_by_role("button", name="Save version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    expect(
        page.get_by_text("Editing version 2 (version 2, in force from 2026-10-01).")
    ).to_be_visible()
    settle(page)

    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_text("version 2, in force from 2026-10-01")).to_be_visible()
    settle(page)
    rows = scorecard_csv(page)
    after = {r["Agent"]: r["Score"] for r in rows}
    assert set(after) == set(before) and after != before  # October scored with the new weights
    assert {r["Scoring scheme"] for r in rows} == {
        "Balanced (default) · version 2, in force from 2026-10-01"
    }
    page.screenshot(path=artifacts / "overview_after_save.png", full_page=True)

    page.get_by_role("link", name="Weights & thresholds").click()
    expect(grid_cell(page, 0, "Sales", "Weight")).to_have_text("200")
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_text("Saved as version 3.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Editing version 3 "))).to_be_visible()
    expect(grid_cell(page, 0, "Sales", "Weight")).to_have_text("20")  # the editor follows
    no_error(page)
    page.screenshot(path=artifacts / "weights_restored.png", full_page=True)


def test_a_plan_target_typed_in_percent_is_stored_as_a_rate(browser_at, artifacts):
    new_tab, _ = browser_at
    trainer = new_tab()
    sign_in(trainer, "coach", PASSWORD)
    target = new_plan_for_csat(trainer, "Target for CSAT (%)")
    target.fill("8500")  # a rate's target of 8500% is refused
    target.press("Enter")
    settle(trainer)
    trainer.get_by_label("Title").fill("Warmer replies")
    trainer.get_by_role("button", name="Create plan").click()
    expect(
        trainer.get_by_text("The target for CSAT must be between 0% and 100%, not 8500%.")
    ).to_be_visible()
    target.fill("85")
    target.press("Enter")
    settle(trainer)
    trainer.get_by_role("button", name="Create plan").click()
    expect(trainer.get_by_text("Plan #3 created")).to_be_visible()
    settle(trainer)
    trainer.get_by_role("link", name="Improvement plans").click()  # the list, with the new plan
    settle(trainer)
    trainer.get_by_role("tab", name="Plans").click()
    trainer.get_by_label("Plan", exact=True).click()
    trainer.get_by_role("option", name=re.compile(r"^#3 ")).click()
    settle(trainer)
    expect(grid_cell(trainer, 0, "CSAT", "Target")).to_have_text("85.0%")  # stored as 0.85
    no_error(trainer)
    trainer.screenshot(path=artifacts / "plan_target_percent.png", full_page=True)


def test_a_plan_made_from_a_recommendation_opens_as_a_new_plan(browser_at, artifacts):
    new_tab, _ = browser_at
    trainer = new_tab()
    sign_in(trainer, "coach", PASSWORD)
    trainer.get_by_role("link", name="Coaching").click()
    expect(trainer.get_by_role("heading", name="Coaching")).to_be_visible()
    trainer.get_by_role("combobox", name="Agent").click()
    trainer.keyboard.type("阿杰")  # thirty agents: the list shows the ones that match
    trainer.get_by_role("option", name="阿杰", exact=True).click()
    settle(trainer)
    trainer.get_by_role("tab", name="Training recommendations").click()
    settle(trainer)
    pick(trainer, "Recommendation", re.compile(r"^Teamwork and knowledge sharing"))
    trainer.get_by_role("button", name="Make an improvement plan from this recommendation").click()
    expect(trainer.get_by_role("heading", name="Improvement plans")).to_be_visible()
    expect(trainer.get_by_role("tab", name="New plan")).to_have_attribute("aria-selected", "true")
    expect(trainer.get_by_label("Title")).to_have_value(
        "Peer score · Teamwork and knowledge sharing"
    )
    expect(trainer.get_by_role("combobox", name="Agent")).to_have_value("阿杰")
    expect(trainer.get_by_label("Target for Peer score")).to_be_visible()  # that KPI alone
    expect(trainer.get_by_label("Target for CSAT")).to_have_count(0)
    no_error(trainer)
    trainer.screenshot(path=artifacts / "plan_from_recommendation.png", full_page=True)


def test_download_the_scorecard(page):
    with page.expect_download() as download:
        page.get_by_role("button", name="Scorecard (CSV)").click()
    rows = list(csv.DictReader(open(download.value.path(), encoding="utf-8-sig")))
    assert len(rows) == 30 and {"Agent", "Score", "Grade", "Could be", "CSAT (%)"} <= set(rows[0])
    assert sorted(int(r["Rank"]) for r in rows)[0] == 1


def test_the_monthly_report_downloads_on_the_first_click(page, shared_app):
    app = shared_app
    with page.expect_download(timeout=60000) as download:
        page.get_by_role("button", name="Monthly report (HTML)").click()  # once
    html = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename.startswith("report_") and "<html" in html.lower()
    settle(page)
    assert "MediaFileStorageError" not in app.db.with_suffix(".log").read_text()


def test_agent_scorecard_shows_charts_and_words(page, artifacts):
    page.get_by_role("link", name="Agent scorecard").click()
    expect(page.get_by_text("Dimensions against the team median")).to_be_visible()
    settle(page)  # the charts come one by one as the page runs
    # radar, KPI bars, trend, and the demo shop's platform peers
    expect(page.locator(".js-plotly-plot")).to_have_count(4)
    expect(page.get_by_text("Strengths:")).to_be_visible()
    no_error(page)
    page.screenshot(path=artifacts / "agent_scorecard.png", full_page=True)


def test_an_agent_and_a_manager_see_what_their_roles_allow(shared_at, artifacts):
    new_tab, app = shared_at
    agent = new_tab()
    expect(agent.get_by_role("heading", name="Sign in to Service Scorecard")).to_be_visible()
    sign_in(agent, "ajie", PASSWORD)
    expect(agent.get_by_role("heading", name="Agent scorecard", exact=True)).to_be_visible()
    expect(agent.get_by_text("Signed in as ajie (agent)")).to_be_visible()
    links = agent.locator(".st-key-app_menu").get_by_role("link")
    expect(links).to_have_text(
        ending(["Agent scorecard", "Coaching", "Improvement plans", "Quality reviews", "Account"])
    )
    expect(agent.get_by_label("Team")).to_have_count(0)
    body = agent.locator("section.main, [data-testid='stMain']").first.inner_text()
    expect(agent.get_by_text("阿杰", exact=True).first).to_be_visible()  # the agent picker
    assert not [n for n in ("小美", "子轩", "志强", "小王") if n in body]
    agent.screenshot(path=artifacts / "agent_view.png", full_page=True)
    agent.goto(app.url + "/weights")  # by URL: refused, not shown
    refusal = agent.get_by_text("This page is not available to your role (agent).")
    form = agent.get_by_role("heading", name="Sign in to Service Scorecard")
    expect(refusal.or_(form)).to_be_visible(timeout=45000)  # a new page load reads the cookie
    if form.is_visible():  # the browser had not stored the login cookie yet: sign in here
        sign_in(agent, "ajie", PASSWORD)
    expect(refusal).to_be_visible(timeout=45000)
    expect(agent.get_by_text("Ranking with these weights")).to_have_count(0)
    no_error(agent)

    manager = new_tab()
    sign_in(manager, "boss", PASSWORD)
    expect(manager.get_by_role("heading", name="Leaderboard")).to_be_visible()
    links = manager.locator(".st-key-app_menu").get_by_role("link")
    expect(links).to_have_text(ending([n for n in NAV if n != "Users"]))
    manager.get_by_role("link", name="Audit log").click()
    expect(manager.get_by_text("signed in").first).to_be_attached()
    no_error(manager)


PAGE_FILES = sorted({f.stem for f in (ROOT / "pages").glob("*.py")} | {"app"})


def no_page_files(tab):
    """Nothing names a file of pages/: no Streamlit menu, no link at all before sign-in."""
    expect(tab.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(tab.get_by_test_id("stSidebar").get_by_role("link")).to_have_count(0)
    sidebar = tab.get_by_test_id("stSidebar")
    words = set(re.findall(r"[\w-]+", sidebar.inner_text() if sidebar.count() else ""))
    assert not words & (set(PAGE_FILES) | {s.lstrip("_") for s in PAGE_FILES} | {"View"}), words


def test_before_sign_in_no_page_file_is_listed_and_a_deep_link_shows_after_sign_in(
        demo_copy, accounts, chromium):  # fmt: skip
    with contexts(chromium) as new_context:

        def open_at(url):
            return open_tab(new_context(), url)

        with AppServer(demo_copy) as app:  # a fresh server: its very first run
            tab = open_at(app.url)
            expect(tab.get_by_role("heading", name="Sign in to Service Scorecard")).to_be_visible()
            settle(tab)
            no_page_files(tab)
            sign_in(tab, "boss", PASSWORD)
            menu = tab.locator(".st-key-app_menu").get_by_role("link")
            expect(menu).to_have_text(ending([n for n in NAV if n != "Users"]))
            expect(tab.get_by_test_id("stSidebarNav")).to_have_count(0)
        with AppServer(demo_copy) as app:  # fresh again, opened on a page's address
            tab = open_at(app.url + "/weights")
            expect(tab.get_by_role("heading", name="Sign in to Service Scorecard")).to_be_visible()
            settle(tab)
            no_page_files(tab)
            sign_in(tab, "boss", PASSWORD)
            expect(tab.get_by_role("heading", name="Weights & thresholds")).to_be_visible()
            expect(tab).to_have_url(re.compile(r"/weights$"))
            no_error(tab)
            for address, heading in (("/upload", "Upload data"), ("/_ui", "Leaderboard")):
                other = open_at(app.url + address)  # the server has run: a later session
                form = other.get_by_role("heading", name="Sign in to Service Scorecard")
                expect(form).to_be_visible()
                settle(other)
                no_page_files(other)
                sign_in(other, "coach" if address == "/_ui" else "boss", PASSWORD)
                expect(other.get_by_role("heading", name=heading)).to_be_visible()
                no_error(other)


def test_wrong_password_is_refused(browser_at):
    new_tab, _ = browser_at
    tab = new_tab()
    sign_in(tab, "boss", "not-it", succeeds=False)
    expect(
        tab.get_by_text(
            "Wrong username or password. After several failed tries, sign-in pauses for a few minutes."
        )
    ).to_be_visible()
    expect(tab.get_by_role("heading", name="Leaderboard")).to_have_count(0)


def test_the_admin_password_is_printed_when_the_server_starts(
    demo_copy, tmp_path, monkeypatch, chromium
):
    """No accounts yet: the password is in the terminal as soon as the server answers, before
    any browser has opened the page, and it signs in."""
    auth = tmp_path / "fresh-auth.yaml"
    monkeypatch.setenv("SCORECARD_AUTH", str(auth))
    with AppServer(demo_copy) as app:
        app.log.flush()
        printed = demo_copy.with_suffix(".log").read_text(encoding="utf-8")
        found = re.search(r"^ {3}admin +(\S+)$", printed, re.M)
        assert found, printed
        assert "accounts created (shown once)" in printed
        assert printed.count("accounts created") == 1  # printed once
        actions = [json.loads(line)["action"] for line in audit.log_path(demo_copy).open()]
        assert "user.create" in actions and "login" not in actions  # made with nobody signed in
        with contexts(chromium) as new_context:
            tab = open_tab(new_context(), app.url)
            sign_in(tab, "admin", found.group(1))
            expect(tab.get_by_role("heading", name="Leaderboard")).to_be_visible()


def test_a_trainer_creates_a_plan_and_an_agent_acknowledges_a_note(browser_at, artifacts):
    new_tab, _ = browser_at
    trainer = new_tab()
    sign_in(trainer, "coach", PASSWORD)
    expect(trainer.get_by_role("heading", name="Leaderboard")).to_be_visible()
    target = new_plan_for_csat(trainer, "Target for CSAT")
    expect(target).to_be_visible()
    trainer.get_by_label("Title").fill("Warmer replies")
    trainer.get_by_role("button", name="Create plan").click()
    expect(trainer.get_by_text("Plan #3 created")).to_be_visible()
    no_error(trainer)
    trainer.screenshot(path=artifacts / "plan_created.png", full_page=True)

    agent = new_tab()
    sign_in(agent, "ajie", PASSWORD)
    agent.get_by_role("link", name="Coaching").click()
    expect(agent.get_by_text("最近首次响应明显变慢")).to_be_visible()
    agent.get_by_label("Your reply (optional)").first.fill("家里有事，已经恢复")
    agent.get_by_role("button", name="Acknowledge").first.click()
    expect(agent.get_by_text("Reply: 家里有事，已经恢复")).to_be_visible()
    expect(agent.get_by_text("Acknowledged on").first).to_be_visible()
    no_error(agent)
    agent.screenshot(path=artifacts / "note_acknowledged.png", full_page=True)


def test_a_write_failure_is_reported_in_the_page_and_the_app_goes_on(browser_at):
    new_tab, app = browser_at
    tab = new_tab()
    sign_in(tab, "coach", PASSWORD)
    tab.get_by_role("link", name="Coaching").click()
    expect(tab.get_by_role("button", name="Add note")).to_be_visible()
    log = app.db.with_name(app.db.stem + ".audit.jsonl")
    log.unlink()
    log.mkdir()  # the log's place is taken: writing it fails as on a full or read-only disk
    tab.get_by_role("textbox", name="Note", exact=True).fill(
        "Please use the quick phrases for refunds."
    )
    tab.get_by_role("button", name="Add note").click()
    expect(tab.get_by_text(f"The audit log {log} could not be written")).to_be_visible()
    no_error(tab)
    tab.get_by_role("link", name="Overview").click()
    expect(tab.get_by_role("heading", name="Leaderboard")).to_be_visible()


def test_a_file_over_the_upload_limit_is_refused_with_the_limit_named(
    demo_copy, accounts, tmp_path, chromium
):
    big = tmp_path / "tickets.csv"
    big.write_text(HEAD + "\n" + "\n".join(row(f"B{i}") for i in range(30_000)) + "\n")
    assert big.stat().st_size > 1_000_000
    limit = {"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "1"}  # MB; the shipped limit is 500
    with AppServer(demo_copy, env=limit) as app, contexts(chromium) as new_context:
        tab = open_tab(new_context(), app.url)
        sign_in(tab, "boss", PASSWORD)
        tab.get_by_role("link", name="Upload data").click()
        expect(
            tab.get_by_text("Files up to 1 MB each. A larger export can be loaded")
        ).to_be_visible()
        tab.locator("input[type='file']").set_input_files(str(big))
        expect(tab.get_by_text("File must be 1.0MB or smaller.")).to_be_visible()
        expect(tab.get_by_role("button", name="Store")).to_have_count(0)
        no_error(tab)


def test_the_login_cookie_is_httponly_and_a_copy_made_before_sign_out_no_longer_signs_in(
        browser_at):  # fmt: skip
    new_tab, app = browser_at
    tab = new_tab()
    sign_in(tab, "boss", PASSWORD)
    for _ in range(100):  # the browser trades the hand-over code for the cookie
        copied = [c for c in tab.context.cookies() if c["name"] == "scorecard_auth"]
        if copied:
            break
        tab.wait_for_timeout(200)
    assert copied and copied[0]["httpOnly"] and copied[0]["sameSite"] == "Strict"
    assert "scorecard_auth" not in tab.evaluate("document.cookie")  # page scripts cannot read it

    def replay():
        other = new_tab()
        other.context.add_cookies(copied)
        other.goto(app.url)
        settle(other)
        return other

    before = replay()  # while the session lasts, the cookie signs in a fresh browser
    expect(before.get_by_role("button", name="Sign out")).to_be_visible()
    tab.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_role("textbox", name="Username")).to_be_visible()
    for _ in range(100):  # signing out also removes the cookie from this browser
        if not [c for c in tab.context.cookies() if c["name"] == "scorecard_auth"]:
            break
        tab.wait_for_timeout(200)
    else:
        raise AssertionError("the login cookie was not removed on sign-out")
    after = replay()
    expect(after.get_by_role("textbox", name="Username")).to_be_visible()
    expect(after.get_by_role("button", name="Sign out")).to_have_count(0)
    no_error(after)


class Trap(http.server.BaseHTTPRequestHandler):
    """A server on loopback that hostile text points at: any request to it is a failure."""

    hits: list = []

    def do_GET(self):  # noqa: N802 - the handler API
        Trap.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_hostile_text_loads_nothing_and_links_nowhere_on_any_page(demo_copy, accounts, chromium):
    from tests.test_security import hostile_store

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    trap = f"127.0.0.1:{server.server_address[1]}"
    Trap.hits = []
    hostile = (f"![r](http://{trap}/b.png) [Session expired](http://{trap}/phish) "
               f'<a href="http://{trap}/a">a</a> <img src="http://{trap}/i.png" '
               f'onerror="alert(1)"> http://{trap}/bare')  # fmt: skip
    hostile_store(demo_copy, hostile, f'<a href="http://{trap}/n">n</a> [x](http://{trap}/l)')
    dialogs = []
    try:
        with AppServer(demo_copy) as app, contexts(chromium) as new_context:
            tab = new_context().new_page()
            tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            tab.set_default_timeout(30000)
            tab.goto(app.url)
            sign_in(tab, "admin", PASSWORD)
            for name in NAV:
                tab.get_by_role("link", name=name).click()
                expect(tab.get_by_role("heading", name=name, exact=True)).to_be_visible()
                settle(tab)
                for tab_name in ("Disputes", "Open dispute"):
                    if tab.get_by_role("tab", name=tab_name).count():
                        tab.get_by_role("tab", name=tab_name).click()
                links = tab.locator(f"a[href*='{trap}'], img[src*='{trap}']")
                assert links.count() == 0, (name, links.first.evaluate("e => e.outerHTML"))
                no_error(tab)
            settle(tab)  # the last page drawn, and every image it asked for come or failed
            tab.wait_for_function("[...document.images].every(image => image.complete)")
    finally:
        server.shutdown()
    assert Trap.hits == [] and dialogs == []


def test_a_forged_cookie_shows_the_login_form(shared_at):
    import time

    import jwt

    new_tab, app = shared_at
    key = users.cookie(app.auth)["key"]
    claims = {"username": "admin", "session": users.session(app.auth, "admin"),
              "exp": int(time.time()) + 3600}  # fmt: skip
    host = app.url.split("//")[1].split(":")[0]
    for token in (jwt.encode(claims, None, algorithm="none"),
                  jwt.encode(claims, key + "x" * 32, algorithm="HS512"), "not.a.jwt"):  # fmt: skip
        tab = new_tab()
        tab.context.add_cookies([{"name": "scorecard_auth", "value": token, "domain": host,
                                  "path": "/"}])  # fmt: skip
        tab.goto(app.url)
        expect(tab.get_by_role("textbox", name="Username")).to_be_visible()
        expect(tab.get_by_role("button", name="Sign out")).to_have_count(0)
        no_error(tab)


def test_two_shops_one_person_and_the_peer_line(own_page, artifacts):
    """A 天猫 period report and a 拼多多 report (.xls named .xlsx) for one month, one account
    linked to its person, the shop filter, and the platform's peer figures as lines."""
    page = own_page
    from pathlib import Path

    fixtures = Path(__file__).parent / "data" / "platforms"
    page.get_by_role("button", name="Clear demo data").click()
    page.get_by_role("dialog").get_by_role("button", name="Clear demo data").click()
    expect(page.get_by_text("No data yet.")).to_be_visible()
    page.get_by_role("link", name="Upload data").click()
    for name, preset in (("taobao_performance.csv", "Taobao/Tmall 客服绩效 report"),
                         ("pdd_service.xlsx", "Pinduoduo 客服数据 per agent")):  # fmt: skip
        page.locator("input[type='file']").set_input_files(str(fixtures / name))
        expect(
            page.get_by_text(re.compile(f"Presets that fit this file: {re.escape(preset)}"))
        ).to_be_visible()
        expect(page.get_by_text("This report has no date column")).to_be_visible()
        choose(page, "Month the report covers", "2026-10")
        expect(page.get_by_text("Preview of the first rows as they will be stored")).to_be_visible()
        page.get_by_role("button", name="Store").click()
        expect(
            page.get_by_text("stored as a report for the period 2026-10-01 – 2026-10-31")
        ).to_be_visible()
        no_error(page)
    # 阿杰's 拼多多 account is offered for linking to 阿杰 of the 天猫 shop.
    expect(page.get_by_role("heading", name="Link agent accounts")).to_be_visible()
    settle(page)
    offer = page.get_by_text("阿杰-pdd · Pinduoduo · 小美家居 → 阿杰")
    try:
        expect(offer).to_be_visible(timeout=60000)
    finally:
        page.screenshot(path=artifacts / "shops_link_offer.png", full_page=True)
    offer.click()
    page.get_by_role("button", name="Link the chosen accounts").click()
    expect(page.get_by_text("1 account(s) linked")).to_be_visible()
    page.get_by_role("link", name="Agent scorecard").click()
    agent = page.get_by_role("combobox", name="Agent", exact=True)
    agent.click()
    expect(page.get_by_role("option", name="阿杰-pdd")).to_have_count(0)  # one person now
    agent.press("Escape")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="By shop")).to_be_visible()
    choose(page, "Shop", "Taobao/Tmall · 星辰家居旗舰店")
    expect(page.get_by_role("heading", name="Against peers of your tier")).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Us vs peers of our tier")
    expect(chart.get_by_text(re.compile(r"Peer average 97\.5"))).to_be_visible()  # 客户满意率
    expect(chart.get_by_text(re.compile(r"Peer best 99\.2"))).to_be_visible()
    no_error(page)
    page.screenshot(path=artifacts / "shops_peers.png", full_page=True)


# Text the browser shows that the app cannot change: Streamlit's own drop-zone words. The YAML
# editors (alert rules, QA rubric) hold configuration, whose keys are identifiers by nature.
STREAMLIT_OWN = re.compile(r"Drag and drop files? here|Browse files|Upload|Skip to main content|"
                           r"(Limit )?\d+\s?MB per file[^\n]*")  # fmt: skip
VISIBLE_TEXT = """() => {
  const root = document.querySelector('[data-testid=stAppViewContainer]') || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll('[data-testid*=Icon], [data-testid=stHeader], code, svg, canvas, textarea, '
                        + '[translate=no], .material-symbols-rounded')
      .forEach(e => e.remove());
  return copy.innerText;
}"""


def test_every_page_in_chinese_shows_no_identifiers_and_the_pickers_follow(
    page, demo_store, accounts
):
    from tests.test_language import ZH_ALLOWED, free_text, strip_free

    # Names and free text from the demo store the app's copy was made from (the running app
    # holds its own copy's file), and the account names (`accounts` is a copy of the app's).
    people = {"admin", "demo-manager", "demo-trainer", "demo-ajie", "demo-xiaowang"}
    exempt = sorted(free_text(demo_store) | people, key=len, reverse=True)
    pick(page, "Team", "售前组")
    pick(page, "Language", "简体中文")
    expect(page.get_by_role("heading", name="总览")).to_be_visible()
    settle(page)
    # The sidebar's pickers show their choice re-labelled, and the choice is kept.
    expect(page.get_by_role("combobox", name="小组")).to_have_value("售前组")
    expect(page.locator("[data-testid=stSidebar]").get_by_text("All teams")).to_have_count(0)
    expect(page.locator("[data-testid=stSidebar]").get_by_text("Balanced (default)")).to_have_count(
        0
    )
    found = {}
    for name in ["总览", "客服绩效卡", "权重与阈值", "上传数据", "辅导改进", "改进计划", "表彰与奖金", "监控预警",
                 "质检", "质检校准", "用户管理", "审计日志", "我的账户"]:  # fmt: skip
        page.get_by_role("link", name=re.compile(re.escape(name) + "$")).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        settle(page)
        text = strip_free(STREAMLIT_OWN.sub(" ", page.evaluate(VISIBLE_TEXT)), exempt)
        text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)  # "pp" beside "SLA" in the next line
        words = {w for w in re.findall(r"[A-Za-z_]{2,}", text) if w not in ZH_ALLOWED}
        if words:
            found[name] = sorted(words)
    assert not found, json.dumps(found, ensure_ascii=False)


def test_every_page_in_english_shows_no_chinese_beyond_names_and_free_text(
    page, demo_store, accounts
):
    from tests.test_language import free_text, strip_free

    people = {"admin", "demo-manager", "demo-trainer", "demo-ajie", "demo-xiaowang", "简体中文"}
    exempt = sorted(free_text(demo_store) | people, key=len, reverse=True)
    found = {}
    for name in NAV:
        page.get_by_role("link", name=re.compile(re.escape(name) + "$")).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        settle(page)
        text = strip_free(page.evaluate(VISIBLE_TEXT), exempt)
        chinese = sorted(set(re.findall(r"[\u4e00-\u9fff]+", text)))
        snake = sorted(set(re.findall(r"\b[a-z]+_[a-z_]+\b", text)))
        if chinese or snake:
            found[name] = chinese[:10] + snake[:10]
    assert not found, json.dumps(found, ensure_ascii=False)
