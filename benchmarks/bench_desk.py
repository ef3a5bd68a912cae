"""How fast the drafting desk's preview follows the officer's typing: from a
keystroke to the updated preview, in a real browser (Debian's Chromium,
headless, through Selenium) on the worked case, and what the same preview
costs without the browser.

    .venv/bin/python benchmarks/bench_desk.py [--keys 50] [--tests] [--screenshot docs/desk.png]

Starts ``notegen serve --workspace`` on loopback over a copy of the seeds,
signs in as a drafter, opens the worked case and types --keys characters at
the end of the note's English protest, one at a time, waiting each time for
the preview to update. The latency is measured in the page with
``performance.now()``: from the key's ``keydown`` to the moment ``#preview``
takes its next ``data-version`` with ``data-state="ok"``, which the desk's
script sets when the frame has loaded the new note (a script injected
through the driver observes both). The desk's debounce is part of it, as it
is for the officer.

Baselines, in the same run and the same process turns: the same edit posted
to the desk's JSON endpoint (``POST /desk/api/preview``) without the browser,
with the session the browser signed in; ``DraftPreview.render`` in this
process (warm); and a bare ``render_html`` of the worked case (warm). With
--tests, also the run time of ``tests/test_desk_browser.py``. With
--screenshot, it also saves the worked case's page as the README shows it
(a 1280×800 viewport).

Run it alone: on a shared machine the figures are provisional.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
WORKED = "az-kyiv-2025/note.yaml"
FIELD = f"{WORKED}::note.protest.en"
#: What is typed, a character per keystroke, at the end of the protest.
TYPED = (", and against every strike on the premises of the Embassy since the coordinates "
         "of all Azerbaijani missions in Ukraine were handed over")
TIMEOUT = 60.0

#: Injected through the driver (not subject to the page's CSP, which forbids
#: inline scripts): times each keydown and each completed preview update
#: with the page's own clock.
OBSERVE = """
const preview = document.getElementById('preview');
window.__bench = {keys: [], updates: []};
document.addEventListener('keydown', () => window.__bench.keys.push(performance.now()), true);
new MutationObserver(() => window.__bench.updates.push(
    [performance.now(), Number(preview.dataset.version), preview.dataset.state]))
  .observe(preview, {attributes: true, attributeFilter: ['data-version']});
"""


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (f"median {statistics.median(ordered):7.1f} ms, worst {ordered[-1]:7.1f} ms, "
            f"best {ordered[0]:6.1f} ms (n={len(ordered)})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def desk(folder: Path, tokens: Path) -> Iterator[str]:
    """``notegen serve --workspace`` on loopback; its URL."""
    port = free_port()
    env = {**os.environ, "NOTEGEN_TOKENS": str(tokens),
           "NOTEGEN_REGISTER": str(folder / "register.db")}
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "notegen", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workspace", str(folder / "workspace")], cwd=folder, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the desk did not start:\n" +
                                 (folder / "serve.log").read_text(errors="replace"))
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def version(driver: webdriver.Chrome) -> tuple[int, str]:
    preview = driver.find_element(By.ID, "preview")
    return int(preview.get_attribute("data-version") or 0), \
        preview.get_attribute("data-state") or ""


def updated(driver: webdriver.Chrome, after: int) -> int:
    def done(_: Any) -> int | None:
        now, state = version(driver)
        return now if now > after and state == "ok" else None
    return int(WebDriverWait(driver, TIMEOUT, poll_frequency=0.02).until(done))


def in_the_browser(url: str, token: str, keys: int) -> tuple[list[float], dict[str, str],
                                                             str, str]:
    """Per keystroke, ms to the next completed update of the preview; the
    session's cookies and CSRF token, and the protest as typed."""
    driver = chromium()
    try:
        driver.get(f"{url}/desk/signin")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.ID, "signin-submit").click()
        WebDriverWait(driver, TIMEOUT).until(lambda d: d.find_elements(By.ID, "user"))
        driver.get(f"{url}/desk/case/{WORKED}")
        current = updated(driver, -1)
        field = driver.find_element(By.CSS_SELECTOR, f'[name="{FIELD}"]')
        field.click()
        field.send_keys(Keys.CONTROL, Keys.END)
        driver.execute_script(OBSERVE)
        text = (TYPED * (keys // len(TYPED) + 1))[:keys]
        for char in text:
            field.send_keys(char)
            current = updated(driver, current)
        seen = driver.execute_script("return window.__bench")
        latencies = []
        for pressed in seen["keys"]:
            update = next((at for at, _, state in seen["updates"]
                           if at >= pressed and state == "ok"), None)
            if update is not None:
                latencies.append(update - pressed)
        assert len(latencies) == keys, (len(latencies), seen)
        cookies = {cookie["name"]: cookie["value"] for cookie in driver.get_cookies()}
        csrf = str(driver.find_element(By.CSS_SELECTOR, 'meta[name="csrf-token"]')
                   .get_attribute("content"))
        value = str(field.get_attribute("value"))
        return latencies, cookies, csrf, value
    finally:
        driver.quit()


def screenshot(url: str, token: str, path: Path) -> None:
    """The worked case's page, its preview ready, in a 1280x800 viewport."""
    driver = chromium()
    try:
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        size = driver.get_window_size()
        driver.set_window_size(size["width"] + 1280 - inner[0], size["height"] + 800 - inner[1])
        driver.get(f"{url}/desk/signin")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.ID, "signin-submit").click()
        WebDriverWait(driver, TIMEOUT).until(lambda d: d.find_elements(By.ID, "user"))
        driver.get(f"{url}/desk/case/{WORKED}")
        updated(driver, -1)
        # The chronology (incidents to tick, the expected ones marked) beside
        # the note: what the desk adds to the YAML files.
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, "
                              "document.getElementById('chronology').getBoundingClientRect()"
                              ".top + window.scrollY - 160)")
        driver.save_screenshot(str(path))
    finally:
        driver.quit()


def through_json(url: str, cookies: dict[str, str], csrf: str, protest: str,
                 keys: int) -> tuple[list[float], list[float]]:
    """Round trips of the desk's JSON preview, and the server's own render
    time it reports, for the same edits as typed."""
    headers = {"X-CSRF-Token": csrf, "Origin": url}
    trips, server = [], []
    with httpx.Client(base_url=url, cookies=cookies, headers=headers, timeout=TIMEOUT) as client:
        for index in range(keys):
            body = {"rel": WORKED, "lang": "en",
                    "edits": [{"file": WORKED, "field": "note.protest.en",
                               "value": protest[:len(protest) - keys + index + 1]}]}
            start = time.perf_counter()
            answer = client.post("/desk/api/preview", content=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
            trips.append((time.perf_counter() - start) * 1000)
            answer.raise_for_status()
            found = answer.json()
            assert found["html"] or found["url"], found["problems"]
            server.append(float(found.get("elapsed_ms", "nan")))
    return trips, server


def in_process(workspace: Path, protest: str, keys: int) -> tuple[list[float], list[float]]:
    """Warm ``DraftPreview.render`` of the same edits, and bare ``render_html``."""
    import notegen
    from notegen.desk.preview import DraftPreview
    from notegen.desk.workspace import Edit, Workspace

    preview = DraftPreview(Workspace(workspace))
    case = notegen.load_case(workspace / WORKED)
    notegen.render_html(case)
    drafts, bare = [], []
    for index in range(keys):
        edit = Edit(WORKED, "note.protest.en", protest[:len(protest) - keys + index + 1])
        start = time.perf_counter()
        result = preview.render(WORKED, [edit], lang="en", note_type=None)
        drafts.append((time.perf_counter() - start) * 1000)
        assert result.html is not None, result.problems
        start = time.perf_counter()
        notegen.render_html(case)
        bare.append((time.perf_counter() - start) * 1000)
    return drafts, bare


def browser_tests() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "tests/test_desk_browser.py"], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--tests", action="store_true",
                        help="Also time tests/test_desk_browser.py.")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="Also save the worked case's page as a PNG (docs/desk.png).")
    args = parser.parse_args()
    from notegen.service.tokens import new_token, write_tokens

    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        workspace = Path(shutil.copytree(ROOT / "seeds", folder / "workspace"))
        token, entry = new_token("desk-officer", ["drafter"])
        write_tokens(folder / "tokens.json", [entry])
        with desk(folder, folder / "tokens.json") as url:
            if args.screenshot:
                screenshot(url, token, args.screenshot)
            to_update, cookies, csrf, protest = in_the_browser(url, token, args.keys)
            trips, server = through_json(url, cookies, csrf, protest, args.keys)
        drafts, bare = in_process(workspace, protest, args.keys)
    lines.append(f"preview of the worked case, {args.keys} keystrokes, one at a time "
                 "(machine shared: provisional):")
    lines.append(f"  keystroke -> #preview updated (in page)  {ms(to_update)}")
    lines.append(f"  POST /desk/api/preview round trip       {ms(trips)}")
    lines.append(f"    its render, as the server reports     {ms(server)}")
    lines.append(f"  DraftPreview.render in process (warm)   {ms(drafts)}")
    lines.append(f"  render_html in process (warm)           {ms(bare)}")
    if args.tests:
        lines.append(f"tests/test_desk_browser.py: {browser_tests():.1f} s")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
