"""The drafting desk in a real browser: Debian's Chromium, headless, driven
by Selenium through Debian's chromedriver, against ``notegen serve
--workspace`` started on loopback over a copy of the seeds.

What an officer does, step by step, each step saved as a screenshot under the
test's temporary folder (``NN-step.png``): sign in, open the worked case,
give the subject incident an impossible date and see the error next to the
field, fix it and see the preview follow, read the note in Russian, tick an
earlier incident and see it in the chronology, save and find the change
(and the file's comments) in the YAML. Then the roles (a drafter has no
issue button and the server refuses a forged issue), issuing, two officers
saving the same case, the keyboard, a narrow window, and the console (no
Content-Security-Policy violation, no script error).

Chromium and chromedriver come from Debian (scripts/setup.sh installs
``chromium chromium-driver``); Selenium is pointed at both, so its manager
downloads nothing. Where they are missing or cannot start, the tests skip
and say why.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from .conftest import EARLIER_LIST, EARLIER_RULE, ROOT, free_port

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
selenium = pytest.importorskip("selenium")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("NOTEGEN_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NOTEGEN_CHROMEDRIVER", "/usr/bin/chromedriver"))
#: Generous: the machine running the tests may be busy.
TIMEOUT = 60.0

WORKED = "az-kyiv-2025/note.yaml"
QUITO = "mx-quito-2024/note.yaml"
#: The earlier incident the tests add to the workspace: it is the sender's
#: premises (the Ambassador's residence in Kyiv) hit by the same State (ru),
#: so the chronology should expect it, but note.earlier does not list it.
EXTRA = "kyiv-2023-06-01"
EXTRA_INCIDENT = """
  # Added by the browser tests: an earlier incident the note does not recall yet.
  - id: kyiv-2023-06-01
    date: 2023-06-01
    place: {en: Kyiv, ru: Киев, az: Kiyev, fr: Kyiv}
    country: ua
    attributed_to: ru
    conflict: ru-ua
    impacts:
      - facility: az-residence-kyiv
        effect: damaged
    means:
      - kind: drone
    account:
      en: debris of a drone fell in the garden of the residence of the Ambassador and broke its windows
      ru: обломки беспилотника упали в саду резиденции Посла и выбили в ней окна
      az: pilotsuz uçuş aparatının qalıqları Səfirin iqamətgahının bağına düşmüş və onun pəncərələrini sındırmışdır
      fr: des débris d'un drone sont tombés dans le jardin de la résidence de l'Ambassadeur et en ont brisé les fenêtres
"""  # noqa: E501

T = TypeVar("T")


# The service over a workspace, started once for the module


@dataclass
class Desk:
    url: str
    workspace: Path
    #: The seeds as they were copied, before any test edited them.
    original: Path
    tokens: dict[str, str]
    access_log: Path
    stderr: Path
    process: subprocess.Popen[bytes]

    def server_says(self) -> str:
        """The last lines the server wrote on standard error."""
        self.stderr.parent.mkdir(parents=True, exist_ok=True)
        text = self.stderr.read_text(encoding="utf-8", errors="replace") if \
            self.stderr.exists() else ""
        return "\n".join(text.splitlines()[-40:])


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    from notegen.service.tokens import new_token, write_tokens

    base = tmp_path_factory.mktemp("desk")
    workspace = Path(shutil.copytree(ROOT / "seeds", base / "workspace"))
    # The chronology by hand, as an officer keeps it without a rule; the
    # catalogue gains an incident the list does not recall yet.
    note = workspace / WORKED
    note.write_text(note.read_text(encoding="utf-8").replace(EARLIER_RULE, EARLIER_LIST),
                    encoding="utf-8")
    with (workspace / "az-mfa-catalogue" / "incidents.yaml").open("a",
                                                                 encoding="utf-8") as file:
        file.write(EXTRA_INCIDENT)
    original = Path(shutil.copytree(workspace, base / "original"))
    secrets: dict[str, str] = {}
    entries = []
    for name, roles in (("drafter-ana", ["drafter"]), ("drafter-ben", ["drafter"]),
                        ("issuer-iva", ["issuer"]), ("drafter-cy", ["drafter"])):
        secret, entry = new_token(name, roles)
        secrets[name] = secret
        entries.append(entry)
    tokens = base / "tokens.json"
    write_tokens(tokens, entries)
    port = free_port()
    stderr = base / "serve.stderr"
    access_log = base / "access.jsonl"
    env = {**os.environ, "NOTEGEN_TOKENS": str(tokens),
           "NOTEGEN_REGISTER": str(base / "register.db"),
           "NOTEGEN_ACCESS_LOG": str(access_log)}
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "notegen", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workspace", str(workspace)],
            cwd=base, env=env, stdout=sink, stderr=subprocess.STDOUT)
    running = Desk(f"http://127.0.0.1:{port}", workspace, original, secrets, access_log,
                   stderr, process)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"notegen serve --workspace stopped ({process.returncode}):\n"
                            f"{running.server_says()}")
            try:
                if httpx.get(f"{running.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"notegen serve did not answer /health in {TIMEOUT:.0f} s:\n"
                            f"{running.server_says()}")
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# A browser, and an officer using it


def chromium(width: int = 1280, height: int = 800) -> webdriver.Chrome:
    """Debian's Chromium, headless, through Debian's chromedriver; skip the
    test, saying why, where either is missing or cannot start."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.skip(f"{path} is missing: install Debian's chromium and chromium-driver "
                        "(scripts/setup.sh does)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={width},{height}", "--lang=en-GB",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        # The driver's path given: Selenium Manager is not run, downloads nothing.
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except (WebDriverException, OSError, ValueError) as exc:
        first = (str(getattr(exc, "msg", None) or exc).strip().splitlines() or [repr(exc)])[0]
        pytest.skip(f"Chromium cannot start: {first}")
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    return driver


@dataclass
class Officer:
    """One browser session of one person at the desk."""

    desk: Desk
    driver: webdriver.Chrome
    shots: Path
    name: str
    steps: list[str] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)

    # Looking

    def shot(self, step: str) -> Path:
        """Save a screenshot of this step: NN-<who>-<step>.png."""
        self.steps.append(step)
        path = self.shots / f"{len(list(self.shots.glob('*.png'))) + 1:02d}-{self.name}-{step}.png"
        self.driver.save_screenshot(str(path))
        self.read_console()
        return path

    def wait(self, condition: Callable[[webdriver.Chrome], T], what: str,
             timeout: float = TIMEOUT) -> T:
        def settled(driver: webdriver.Chrome) -> T:
            try:
                return condition(driver)
            except WebDriverException as exc:
                # An element of the page a form submission is replacing:
                # Chrome says so in other words than "stale" ("Node with
                # given id does not belong to the document"). Not yet.
                if "does not belong to the document" not in str(exc):
                    raise
                return False  # type: ignore[return-value]

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)).until(settled)
        except TimeoutException:
            path = self.shot("timed-out")
            raise AssertionError(
                f"{self.name}: waited {timeout:.0f} s for {what} (at {self.driver.current_url}; "
                f"screenshot {path})\nserver said:\n{self.desk.server_says()}") from None

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def field(self, name: str) -> WebElement:
        """The input, textarea or select of the form field ``name``."""
        return self.find(f'[data-field="{name}"] [name="{name}"]')

    def read_console(self) -> None:
        self.console.extend(self.driver.get_log("browser"))

    def console_faults(self, allowed_statuses: tuple[int, ...] = ()) -> list[str]:
        """What the console reported that a page of the desk must not cause: a
        Content-Security-Policy violation, a script error, a resource that
        failed (other than an answer of a status in ``allowed_statuses``)."""
        self.read_console()
        faults = []
        for entry in self.console:
            message = str(entry.get("message", ""))
            policy = "Content Security Policy" in message or "Content-Security-Policy" in message
            if policy or entry.get("source") == "javascript" or (
                    entry.get("level") == "SEVERE" and entry.get("source") != "network"):
                faults.append(message)
            elif entry.get("source") == "network":
                status = re.search(r"status of (\d{3})", message)
                if "favicon.ico" in message:
                    continue
                if status is None or int(status[1]) not in allowed_statuses:
                    faults.append(message)
        return faults

    # Doing

    def go(self, path: str) -> None:
        self.driver.get(self.desk.url + path)

    def sign_in(self, token_name: str) -> None:
        self.go("/desk/signin")
        self.wait(lambda d: self.find("form#signin"), "the sign-in form")
        self.find("input#token").send_keys(self.desk.tokens[token_name])
        self.find("button#signin-submit").click()
        self.wait(lambda d: token_name in self.find("#user").text,
                  f"#user to name {token_name} after signing in")

    def replace_text(self, element: WebElement, text: str) -> None:
        """Select what the field holds and type ``text`` over it, as a person would."""
        element.click()
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(text)

    def preview(self) -> tuple[int, str]:
        """The preview's version (completed updates) and state."""
        preview = self.find("#preview")
        return int(preview.get_attribute("data-version") or 0), \
            preview.get_attribute("data-state") or ""

    def wait_preview(self, after: int, state: str, what: str) -> int:
        """Wait for an update after version ``after`` that ends in ``state``."""
        def done(_: webdriver.Chrome) -> int | None:
            version, now = self.preview()
            return version if version > after and now == state else None
        return self.wait(done, f"the preview to update past version {after} to {state!r} "
                               f"({what})")

    def preview_text(self) -> str:
        """The text of the note in the preview (inside the iframe)."""
        frame = self.find("iframe#preview")
        self.driver.switch_to.frame(frame)
        try:
            return str(self.driver.execute_script(
                "return document.body ? document.body.innerText : ''"))
        finally:
            self.driver.switch_to.default_content()

    def preview_lang(self) -> str:
        self.driver.switch_to.frame(self.find("iframe#preview"))
        try:
            return str(self.driver.execute_script("return document.documentElement.lang"))
        finally:
            self.driver.switch_to.default_content()

    def wait_preview_text(self, *expected: str, absent: tuple[str, ...] = ()) -> str:
        def shows(_: webdriver.Chrome) -> str | None:
            text = " ".join(self.preview_text().split())
            return text if all(part in text for part in expected) and not any(
                part in text for part in absent) else None
        return self.wait(shows, f"the preview to show {expected} and not {absent}")

    def fetch(self, method: str, path: str) -> int:
        """Send a request from the page, as its own script would: the session's
        cookie, and the page's CSRF token in the header and the body."""
        return int(self.fetched(method, path)[0])

    def fetched(self, method: str, path: str) -> tuple[int, str, str]:
        """:meth:`fetch`, with the answer's type and (for text) its text."""
        status, kind, text = self.driver.execute_async_script("""
            const [method, path, done] = arguments;
            const meta = document.querySelector('meta[name="csrf-token"]');
            const csrf = meta ? meta.content : '';
            const init = {method, credentials: 'same-origin', redirect: 'manual',
                          headers: {'X-CSRF-Token': csrf}};
            if (method !== 'GET') init.body = new URLSearchParams({csrf});
            fetch(path, init).then(async r => {
              const kind = r.headers.get('Content-Type') || '';
              done([r.status, kind, kind.startsWith('text/') ? await r.text() : '']);
            }).catch(e => done([-1, '', String(e)]));
        """, method, path)
        return int(status), str(kind), str(text)


@pytest.fixture
def officers(desk: Desk, tmp_path: Path) -> Iterator[Callable[..., Officer]]:
    """Make browser sessions for a test; each is closed after it."""
    made: list[Officer] = []

    def officer(name: str, width: int = 1280, height: int = 800) -> Officer:
        person = Officer(desk, chromium(width, height), tmp_path, name)
        made.append(person)
        return person

    try:
        yield officer
    finally:
        for person in made:
            with contextlib.suppress(WebDriverException):
                person.driver.quit()


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines taken out and put in between two texts."""
    lines = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return ([line[2:] for line in lines if line.startswith("- ")],
            [line[2:] for line in lines if line.startswith("+ ")])


# The officer's day


def test_an_officer_drafts_the_worked_case(desk: Desk, officers: Callable[..., Officer]) -> None:
    ana = officers("ana")
    ana.sign_in("drafter-ana")
    assert "drafter" in ana.find("#user").text
    session = ana.driver.get_cookie("notegen_desk")
    assert session is not None
    assert (session["httpOnly"], session.get("sameSite"), session["path"]) == \
        (True, "Strict", "/"), session
    ana.shot("signed-in")

    # Open the worked case from the list.
    ana.wait(lambda d: ana.all("table#cases a.case-link"), "the list of cases")
    links = [link for link in ana.all("table#cases a.case-link")
             if (link.get_attribute("href") or "").endswith("/desk/case/" + WORKED)]
    assert links, "the worked case is not in the list"
    links[0].click()
    ana.wait(lambda d: ana.find("form#case-form"), "the case form")
    start = ana.wait_preview(-1, "ok", "the worked case opened")
    assert "The Ministry of Foreign Affairs of the Republic of Azerbaijan presents its " \
        "compliments" in " ".join(ana.preview_text().split())
    ana.shot("worked-case")

    # An impossible date: the error is next to the field and in the list.
    date = f"{WORKED}::incidents[0].date"
    ana.replace_text(ana.field(date), "2025-02-30")
    broken = ana.wait_preview(start, "error", "the date 2025-02-30")
    beside = ana.wait(lambda d: [p for p in ana.all(f'[data-field="{date}"] .field-problem')
                                 if p.is_displayed() and p.text.strip()],
                      "a problem shown next to the date field")
    assert beside[0].get_attribute("role") == "alert"
    assert "date" in beside[0].text.lower(), beside[0].text
    listed = [item.text for item in ana.all("ul#problems li")]
    assert any("date" in item.lower() for item in listed), listed
    assert not ana.find("iframe#preview").is_displayed(), \
        "the preview still shows although the note cannot render"
    ana.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", beside[0])
    ana.shot("impossible-date")

    # Fixed: the preview comes back, with the new date in words.
    ana.replace_text(ana.field(date), "2025-11-13")
    fixed = ana.wait_preview(broken, "ok", "the date fixed to 2025-11-13")
    assert ana.find("iframe#preview").is_displayed()
    ana.wait(lambda d: not [p for p in ana.all(f'[data-field="{date}"] .field-problem')
                            if p.is_displayed() and p.text.strip()],
             "the problem next to the date to go")
    ana.wait_preview_text("on 13 November 2025")
    ana.shot("date-fixed")

    # In Russian: the record's Russian texts, and the note's language.
    Select(ana.find("select#lang")).select_by_value("ru")
    russian = ana.wait_preview(fixed, "ok", "Russian chosen")
    ana.wait_preview_text("заявить решительный протест",
                          absent=("lodge a strong protest",))
    assert ana.preview_lang() == "ru"
    ana.shot("russian")

    # The chronology: the added incident is expected, not yet ticked; tick it.
    box = ana.find(f'fieldset#chronology input[name="earlier"][value="{EXTRA}"]')
    assert box.get_attribute("data-expected") == "true"
    assert not box.is_selected()
    for recalled in ("kharkiv-2022-03-10", "kyiv-2024-01-02", "kyiv-2025-08-28",
                     "odesa-2025-08"):
        assert ana.find(f'fieldset#chronology input[name="earlier"][value="{recalled}"]'
                        ).is_selected(), recalled
    ana.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    ana.wait_preview(russian, "ok", "the extra incident ticked")
    # Its entry, dated in Russian words (genitive month) with its account.
    ana.wait_preview_text("1 июня 2023", "обломки беспилотника упали в саду резиденции Посла")
    ana.shot("earlier-ticked")

    # Save: the change is in the YAML, and nothing else moved.
    note = desk.workspace / WORKED
    ana.find("button#save").click()
    ana.wait(lambda d: ana.find("#save-status").text.strip()
             and ana.find("#save-status").get_attribute("role") == "status"
             and read(note) != read(desk.original / WORKED), "the save to be reported")
    ana.shot("saved")
    saved = read(note)
    assert "# The worked case: the note verbale the Ministry of Foreign Affairs of" in saved
    assert "  # Illustrative: the number of the real note was not published." in saved
    import notegen

    case = notegen.load_case(note)
    assert str(case.note.language) == "en", "choosing Russian for the preview changed the note"
    assert str(case.incidents[case.note.subject].date) == "2025-11-13"
    # The incidents the note recalled stay in the order the file gave them.
    recalled = list(notegen.load_case(desk.original / WORKED).note.earlier)
    assert [item for item in case.note.earlier if item != EXTRA] == recalled, \
        f"the earlier incidents were reordered: {recalled} became {case.note.earlier}"
    assert EXTRA in case.note.earlier
    taken_out, put_in = diff(read(desk.original / WORKED), saved)
    assert taken_out == ["    date: 2025-11-14"], (taken_out, put_in)
    assert sorted(put_in) == ["    - kyiv-2023-06-01", "    date: 2025-11-13"], put_in
    for other in ("incidents.yaml", "parties.yaml", "situation.yaml"):
        assert read(desk.workspace / "az-mfa-catalogue" / other) == \
            read(desk.original / "az-mfa-catalogue" / other), other

    # Signing out ends the session.
    ana.find("form#signout button#signout-submit").click()
    ana.wait(lambda d: ana.all("form#signin"), "the sign-in page after signing out")
    ana.go("/")
    ana.wait(lambda d: ana.all("form#signin"), "the sign-in page for a signed-out visitor")
    ana.shot("signed-out")
    assert not ana.console_faults(), ana.console_faults()


def test_two_officers_save_the_same_case(desk: Desk, officers: Callable[..., Officer]) -> None:
    ana, ben = officers("ana"), officers("ben")
    protest = f"{QUITO}::note.protest.en"
    for person, token in ((ana, "drafter-ana"), (ben, "drafter-ben")):
        person.sign_in(token)
        person.go(f"/desk/case/{QUITO}")
        person.wait(lambda d, p=person: p.field(protest), "the protest field")
        person.wait_preview(-1, "ok", "the case opened")
        person.shot("opened")
    ana_text = ("protest in the strongest terms against the entry by force of the Ecuadorian "
                "police into the Embassy of the United Mexican States in Quito")
    ben_text = ("protest most firmly against the violation of the premises of the Embassy of "
                "the United Mexican States in Quito")
    before = ana.preview()[0]
    ana.replace_text(ana.field(protest), ana_text)
    ana.wait_preview(before, "ok", "Ana's protest")
    ana.find("button#save").click()
    ana.wait(lambda d: ana_text in " ".join(read(desk.workspace / QUITO).split()),
             "Ana's save to reach the file")
    ana.shot("saved-first")

    before = ben.preview()[0]
    ben.replace_text(ben.field(protest), ben_text)
    ben.wait_preview(before, "ok", "Ben's protest")
    ben.find("button#save").click()
    status = ben.wait(lambda d: ben.find("#save-status") if ben.find(
        "#save-status").get_attribute("role") == "alert" and ben.find(
        "#save-status").text.strip() else None, "the second save to be refused")
    ben.shot("refused-second")
    # Who saved it, and when.
    assert "drafter-ana" in status.text, status.text
    assert re.search(r"\d{1,2}:\d{2}", status.text), status.text
    # Nothing lost: Ben's words are still in his form, Ana's in the file.
    assert " ".join((ben.field(protest).get_attribute("value") or "").split()) == ben_text
    on_disk = " ".join(read(desk.workspace / QUITO).split())
    assert ana_text in on_disk
    assert ben_text not in on_disk
    assert "# The first entry by force; nothing earlier to recall." in read(desk.workspace / QUITO)
    for person in (ana, ben):
        assert not person.console_faults(allowed_statuses=(409,)), person.console_faults((409,))


def test_downloads_follow_the_chosen_translation(desk: Desk,
                                                 officers: Callable[..., Officer]) -> None:
    ana = officers("ana")
    ana.sign_in("drafter-ana")
    ana.go(f"/desk/case/{WORKED}")
    ana.wait_preview(-1, "ok", "the case opened")
    pdf = ana.find("a#download-pdf").get_attribute("href") or ""
    status, kind, _ = ana.fetched("GET", pdf)
    assert (status, kind) == (200, "application/pdf"), (status, kind)
    # The case gives no courtesy translation: the démarche set needs one.
    alone = ana.find("a#download-demarche").get_attribute("href") or ""
    Select(ana.find("select#translation")).select_by_value("ru")
    demarche = ana.find("a#download-demarche").get_attribute("href") or ""
    assert "translation=ru" in demarche, demarche
    status, kind, _ = ana.fetched("GET", demarche)
    assert (status, kind) == (200, "application/zip"), (status, kind)
    ana.shot("downloads")
    assert not ana.console_faults(), ana.console_faults()
    # Without it, refused.
    assert ana.fetch("GET", alone) == 422


def test_a_refusal_names_no_server_folder(desk: Desk, officers: Callable[..., Officer]) -> None:
    iva = officers("iva")
    iva.sign_in("issuer-iva")
    iva.go(f"/desk/case/{WORKED}")
    iva.wait_preview(-1, "ok", "the case opened")
    # A démarche set without a courtesy translation.
    status, _, text = iva.fetched("GET", iva.find("a#download-demarche").get_attribute(
        "href") or "")
    assert status == 422, status
    assert str(desk.workspace) not in text, "the answer names the server's folder"
    assert "--translation" not in text, "the desk tells its user about a command-line option"
    # Issuing a note that has a reference already.
    iva.find("button#issue").click()
    refused = iva.wait(lambda d: iva.find("main").text if "reference" in iva.find(
        "main").text else None, "the refusal to issue a note with a reference")
    iva.shot("issue-refused")
    assert str(desk.workspace) not in refused, "the page names the server's folder"


def test_every_incident_the_chronology_offers_can_be_recalled(
        desk: Desk, officers: Callable[..., Officer]) -> None:
    ben = officers("ben")
    ben.sign_in("drafter-ben")
    ben.go(f"/desk/case/{WORKED}")
    version = ben.wait_preview(-1, "ok", "the case opened")
    # The Quito incident is defined by the other case's file, which the worked
    # case does not include: either it is not offered, or ticking it works.
    offered = ben.all('fieldset#chronology input[name="earlier"][value="quito-2024-04-05"]')
    if offered:
        ben.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", offered[0])
        offered[0].click()
        state = ben.wait(lambda d: ben.preview()[1] if ben.preview()[0] > version and
                         ben.preview()[1] != "pending" else None, "the preview after ticking")
        ben.shot("foreign-incident-ticked")
        assert state == "ok", [item.text for item in ben.all("ul#problems li")]


def test_a_session_that_ends_while_typing_loses_nothing(
        desk: Desk, officers: Callable[..., Officer]) -> None:
    from notegen.service.tokens import revoke_token

    cy = officers("cy")
    cy.sign_in("drafter-cy")
    cy.go(f"/desk/case/{QUITO}")
    opened = cy.wait_preview(-1, "ok", "the case opened")
    protest = f"{QUITO}::note.protest.en"
    typed = "protest most firmly against the entry of the police into the Embassy"
    cy.replace_text(cy.field(protest), typed)
    shown = cy.wait_preview(opened, "ok", "the protest typed")
    # The token is revoked (or expires) while the officer types on.
    revoke_token(desk.workspace.parent / "tokens.json", "drafter-cy")
    page = cy.driver.current_url
    cy.field(protest).send_keys(" by force")
    cy.wait(lambda d: d.current_url != page or cy.preview()[0] > shown,
            "the preview to answer after the session ended")
    cy.shot("session-ended")
    assert cy.driver.current_url == page, \
        f"the page left for {cy.driver.current_url}: the unsaved edits are gone"
    assert " ".join((cy.field(protest).get_attribute("value") or "").split()) == \
        typed + " by force"


def test_a_drafter_cannot_issue(desk: Desk, officers: Callable[..., Officer]) -> None:
    ana = officers("ana")
    ana.sign_in("drafter-ana")
    ana.go(f"/desk/case/{QUITO}")
    ana.wait(lambda d: ana.find("form#case-form"), "the case form")
    ana.shot("no-issue-button")
    assert not ana.all("button#issue"), "a drafter is offered the issue button"
    # The requests the button would lead to, forged with the drafter's own
    # session and a valid CSRF token: the server refuses them.
    assert ana.fetch("GET", f"/desk/issue/{QUITO}") == 403
    assert ana.fetch("POST", f"/desk/issue/{QUITO}") == 403
    ana.go("/desk/register")
    ana.shot("register-as-drafter")
    import notegen

    with notegen.open_register(desk.workspace.parent / "register.db") as register:
        assert not register.find(subject="quito-2024-04-05"), "a drafter's note was issued"
    # Refused for the role, not for the CSRF token, and logged so.
    refused = [entry for entry in map(json.loads, read(desk.access_log).splitlines())
               if entry.get("status") == 403 and entry.get("token") == "drafter-ana"]
    assert len(refused) >= 2, refused
    assert all("issuer" in str(entry.get("refused")) for entry in refused), refused
    assert not ana.console_faults(allowed_statuses=(403,)), ana.console_faults((403,))


def test_an_issuer_issues_and_finds_it_in_the_register(
        desk: Desk, officers: Callable[..., Officer]) -> None:
    iva = officers("iva")
    iva.sign_in("issuer-iva")
    assert "issuer" in iva.find("#user").text
    iva.go(f"/desk/case/{QUITO}")
    iva.wait(lambda d: iva.find("button#issue"), "the issue button")
    iva.shot("case")
    iva.find("button#issue").click()
    # The confirmation says the number the note will take: the sender's pattern
    # SRE/{number}/{year}, the first of 2024 in an empty register.
    number = iva.wait(lambda d: iva.find("#next-number").text.strip(), "the next number")
    assert number == "SRE/1/2024", number
    iva.shot("confirm")
    iva.find("button#confirm-issue").click()
    issued = iva.wait(lambda d: iva.find("#issued-reference").text.strip(),
                      "the issued reference")
    assert "SRE/1/2024" in issued, issued
    iva.shot("issued")
    iva.go("/desk/register")
    iva.wait(lambda d: iva.find("form#register-search"), "the register's search")
    search = iva.find('form#register-search input[name="subject"]')
    search.send_keys("quito-2024-04-05")
    search.submit()
    table = iva.wait(lambda d: iva.find("table#register-entries") if "SRE/1/2024" in iva.find(
        "table#register-entries").text else None, "the note in the register")
    assert "issuer-iva" in table.text or "ec-embassy-mexico" in table.text, table.text
    iva.shot("register")
    assert not iva.console_faults(), iva.console_faults()


def test_signing_in_with_the_keyboard_alone(desk: Desk,
                                             officers: Callable[..., Officer]) -> None:
    ben = officers("ben")
    ben.go("/desk/signin")
    label = ben.find('label[for="token"]')
    assert "Access token" in label.text
    active = "return document.activeElement ? document.activeElement.id : ''"

    def press(*keys: str) -> None:
        ActionChains(ben.driver).send_keys(*keys).perform()

    def tab_to(target: str) -> None:
        for _ in range(30):
            if ben.driver.execute_script(active) == target:
                return
            press(Keys.TAB)
        raise AssertionError(f"Tab never reaches #{target}")

    tab_to("token")
    press(ben.desk.tokens["drafter-ben"])
    tab_to("signin-submit")
    ben.shot("keyboard-focus-on-submit")
    press(Keys.ENTER)
    ben.wait(lambda d: "drafter-ben" in ben.find("#user").text, "signed in by keyboard")
    ben.shot("keyboard-signed-in")
    assert not ben.console_faults(), ben.console_faults()


@pytest.mark.parametrize("page", ["/", f"/desk/case/{WORKED}", "/desk/register"])
def test_a_narrow_window_needs_no_sideways_scroll(desk: Desk, officers: Callable[..., Officer],
                                                  page: str) -> None:
    ben = officers("narrow", 600, 900)
    # The register is for readers and issuers.
    ben.sign_in("issuer-iva" if page == "/desk/register" else "drafter-ben")
    ben.go(page)
    ben.wait(lambda d: ben.driver.execute_script("return document.readyState") == "complete",
             "the page to load")
    if page.startswith("/desk/case/"):
        ben.wait_preview(-1, "ok", "the case opened")
    ben.shot("narrow" + page.replace("/", "-").replace(".", "-"))
    widths = ben.driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page}: {widths[0]} px wide in a {widths[1]} px window"
    assert not ben.console_faults(), ben.console_faults()
