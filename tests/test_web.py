"""``agentdesk web``: the workstation in a real browser (Debian's chromium, headless, driven by selenium),
served by a real ``agentdesk web`` process on loopback. Skipped where chromium is not installed, unless CI
is set (``.ci/run`` installs it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

WAIT = 60.0
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser():  # noqa: ANN201
    if CHROMIUM is None or DRIVER is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed; CI is set, so this test must run")
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def web_process(store: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "agentdesk", "--db", str(store), *args, "web", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + WAIT
    for line in process.stdout:
        found = re.search(r"agentdesk web on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return process, found.group(1)
        assert time.monotonic() < deadline, "agentdesk web did not say where it listens"
    raise AssertionError(f"agentdesk web ended: {process.wait()}")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise AssertionError("agentdesk web did not stop on SIGTERM") from None


def body_has(driver, css_class: str) -> None:  # noqa: ANN001
    """Wait until the page's body carries ``css_class`` (textual-serve's page marks its states so)."""
    deadline = time.monotonic() + WAIT
    while css_class not in (driver.execute_script("return document.body.className") or ""):
        assert time.monotonic() < deadline, f"the page never reached {css_class}"
        time.sleep(0.1)


def test_each_tab_runs_agentdesk_with_this_commands_options() -> None:
    import argparse

    from agentdesk.cli.web import web_command

    args = argparse.Namespace(db=Path("/srv/desk.sqlite3"), server="https://desk.example.com", agent="a-1",
                              authority=None, read_only=True)
    assert web_command(args).split()[1:] == ["-m", "agentdesk", "--db", "/srv/desk.sqlite3", "--server",
                                             "https://desk.example.com", "--as", "a-1", "--read-only"]


async def test_the_desk_runs_in_a_browser_and_takes_the_keyboard(make_store, browser) -> None:
    """The terminal in the page is drawn on a canvas: what it shows is the app's (tested by the pilot tests);
    here the browser gets the app's first bytes, and a key typed in the page ends the app."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from tests.test_tui_support import queue_records

    store = await make_store(queue_records())
    process, url = web_process(store, "--as", "a-7", "--read-only")
    try:
        browser.get(url)
        body_has(browser, "-first-byte")  # the session started and drew
        terminal = browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")  # where xterm.js takes keys
        ActionChains(browser).click(browser.find_element(By.CSS_SELECTOR, ".xterm")).perform()
        terminal.send_keys("q")  # quit, typed in the browser
        body_has(browser, "-closed")
        assert process.poll() is None  # the server stays for the next tab
    finally:
        stop(process)
