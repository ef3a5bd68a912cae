"""The worked case draws on the Ministry's memory (issue 21).

seeds/az-kyiv-2025/note.yaml names the Ministry's incident catalogue
(seeds/az-mfa-catalogue/) and gives its earlier incidents as a rule. Here:
the rule chooses exactly the incidents the note listed by hand before; the
note renders word for word as it did with that list; with a register that
holds the Ministry's earlier notes on those incidents (issued here, 2022 to
2025, with one reply) it recalls them; and once issued it renders to the
same bytes from its own records after the catalogue has grown.

The expected English recall sentence is put together from the phrases of
templates/catalogues/en.yaml (``earlier_notes.*``) by the rule their
comments give, not copied from a render; the other languages are checked
for what any wording must hold: every number, every date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import notegen
from notegen import RenderOptions, extract_record, load_case, open_register, render_html
from notegen.archive.register import Register
from notegen.cli import cli
from notegen.options import Document
from notegen.records.case import Case, load_incident_catalogue
from notegen.records.models import NoteType
from notegen.render.pdf import render_pdf
from notegen.template_folders import builtin
from notegen.wording.catalogue import load_catalogue
from notegen.wording.prepare import prepare

from .conftest import EARLIER_RULE, ROOT, SEED, flat, pdf_text
from .test_replies import plain

CATALOGUE = SEED.parent / "az-mfa-catalogue"
SUBJECT = "kyiv-2025-11-14"

#: The note's rule: incidents attributed to the addressee's State (ru, the
#: Russian Embassy's) that struck premises of the sender's State (az), from
#: 24 February 2022, before the subject incident of 14 November 2025. In the
#: catalogue, oldest first:
EARLIER = [
    "kharkiv-2022-03-10",  # 10 March 2022: the Honorary Consulate in Kharkiv
    "kyiv-2024-01-02",  # 2 January 2024: a near miss at the Embassy in Kyiv
    "odesa-2025-08",  # 8 and 18 August 2025: SOCAR's oil depot, Odesa region
    "kyiv-2025-08-28",  # 28 August 2025: the Embassy, its Consular Section, the residence
]
#: The list the note gave by hand before it named the catalogue.
LISTED = ["kharkiv-2022-03-10", "kyiv-2024-01-02", "kyiv-2025-08-28", "odesa-2025-08"]

FAST = RenderOptions(pdf_variant=None, embed_record=False)
NOW = dt.datetime(2025, 11, 20, 9, 0, tzinfo=dt.UTC)


# The rule's choice.

def test_the_rule_chooses_the_incidents_the_note_listed_by_hand(worked_case: Case) -> None:
    choice = worked_case.chronology
    assert choice is not None
    rule = choice.written.rule
    assert (rule.attributed_to, rule.struck, rule.since, rule.until) == (
        "addressee", "sender", dt.date(2022, 2, 24), None)
    assert (choice.written.add, choice.written.exclude) == ([], [])
    assert list(choice.chosen) == list(choice.resolved) == EARLIER
    assert worked_case.note.earlier == EARLIER
    assert sorted(EARLIER) == sorted(LISTED)
    assert worked_case.catalogues == (CATALOGUE,)
    # The catalogue on its own, chosen by the rule's terms one by one.
    catalogue = load_incident_catalogue(CATALOGUE)
    subject = worked_case.incidents[SUBJECT]
    chosen = [incident for incident in catalogue.incidents.values()
              if incident.attributed_to == "ru" and incident.date >= dt.date(2022, 2, 24)
              and incident.last_date < subject.date
              and any(catalogue.facilities[impact.facility].owner == "az"
                      for impact in incident.impacts)]
    assert [incident.id for incident in sorted(chosen, key=lambda i: i.date)] == EARLIER
    # The case holds the catalogue's records once: none is written in the case.
    written_in = {record_id: source.path.parent.resolve()
                  for record_id, (source, _) in worked_case.origins.items() if record_id}
    assert {written_in[incident_id] for incident_id in EARLIER} == {CATALOGUE}
    assert written_in[SUBJECT] == SEED
    assert written_in["ru-embassy-baku"] == CATALOGUE


def test_validate_and_incidents_list_show_the_same_choice(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", str(SEED / "note.yaml")])
    assert result.exit_code == 0, result.output
    assert (f"earlier incidents, as its rule chose them ({len(EARLIER)}): "
            f"{', '.join(EARLIER)}") in result.output
    assert "warning" not in result.output.lower()
    result = runner.invoke(cli, ["incidents", "list", str(CATALOGUE), "--attributed-to", "ru",
                                 "--struck", "az", "--since", "2022-02-24",
                                 "--until", "2025-11-13", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.output.splitlines()] == EARLIER


# The same note as with the list.

@pytest.fixture(scope="module")
def listed_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    """The worked case with its earlier incidents listed by hand, as it was."""
    seeds = Path(shutil.copytree(SEED.parent, tmp_path_factory.mktemp("listed") / "seeds"))
    note = seeds / SEED.name / "note.yaml"
    text = note.read_text(encoding="utf-8")
    assert EARLIER_RULE in text
    note.write_text(text.replace(EARLIER_RULE, "  earlier:\n" + "".join(
        f"    - {incident_id}\n" for incident_id in LISTED)), encoding="utf-8")
    case = load_case(note)
    assert case.chronology is None
    assert case.note.earlier == LISTED
    return case


@pytest.mark.parametrize("lang", ["en", "ru", "az", "fr"])
@pytest.mark.parametrize("note_type", list(NoteType))
def test_the_note_reads_as_it_did_with_its_list(worked_case: Case, listed_case: Case,
                                                lang: str, note_type: NoteType) -> None:
    options = RenderOptions(lang=lang, note_type=note_type)
    by_rule, by_hand = prepare(worked_case, options), prepare(listed_case, options)
    assert [entry.entry for entry in by_rule.context.chronology] == \
        [entry.entry for entry in by_hand.context.chronology]
    assert len(by_rule.context.chronology) == len(EARLIER)
    assert render_html(worked_case, options) == render_html(listed_case, options)


@pytest.mark.parametrize("document", [Document.talking_points, Document.press_release])
def test_the_companions_read_as_they_did(worked_case: Case, listed_case: Case,
                                         document: Document) -> None:
    options = RenderOptions(document=document)
    assert render_html(worked_case, options) == render_html(listed_case, options)


def test_the_records_differ_only_in_the_order_of_the_earlier_incidents(
        worked_case: Case, listed_case: Case) -> None:
    """The rule lists them oldest first, the hand-written list did not; the
    note recalls them by date either way."""
    by_rule = json.loads(extract_record(render_pdf(worked_case)))
    by_hand = json.loads(extract_record(render_pdf(listed_case)))
    assert by_rule["note"].pop("earlier") == EARLIER
    assert by_hand["note"].pop("earlier") == LISTED
    assert by_rule == by_hand
    assert "catalogue" not in by_rule


# The earlier notes recalled from a register.

#: The Ministry's notes on the earlier incidents, one each, the day after:
#: (name, date, subject). Each chooses its own chronology by the worked
#: note's rule.
EARLIER_NOTES = [
    ("kharkiv", "2022-03-11", "kharkiv-2022-03-10"),
    ("kyiv-2024", "2024-01-03", "kyiv-2024-01-02"),
    ("odesa", "2025-08-19", "odesa-2025-08"),
    ("kyiv-2025", "2025-08-29", "kyiv-2025-08-28"),
]
#: The numbers the register gives them (the profile's 12/{number}/{year}).
NUMBERS = ["12/1/2022", "12/1/2024", "12/1/2025", "12/2/2025"]
#: The one reply: to the note on Kharkiv, on 1 April 2022, unnumbered.
REPLIED = dt.date(2022, 4, 1)

EARLIER_NOTE = """\
catalogue: ../az-mfa-catalogue
include: [../profiles/az-mfa.yaml]
note:
  language: en
  date: {date}
  sender: az-mfa
  addressee: ru-embassy-baku
  subject: {subject}
  earlier: {{rule: {{attributed_to: addressee, struck: sender, since: 2022-02-24}}}}
  chronology_required: false
  protest: {{en: protest against the attack on the premises of the Republic of Azerbaijan}}
  demands: [{{kind: investigation}}]
"""


@dataclasses.dataclass(frozen=True)
class Issued:
    """A copy of the seeds, a register seeded with the earlier notes, and the
    worked note issued from it."""

    seeds: Path
    database: Path
    #: The earlier notes' entries' records, by name.
    records: dict[str, dict[str, Any]]
    #: The worked note as issued (PDF/A, its records embedded).
    pdf: bytes
    reference: str


def _issue(register: Register, path: Path, options: RenderOptions | None = None
           ) -> tuple[str, bytes]:
    entry, pdf = register.issue(load_case(path), options, issued_by="officer", now=NOW,
                                recall=True)  # as `notegen issue` does
    return entry.reference, pdf


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    root = tmp_path_factory.mktemp("memory")
    seeds = Path(shutil.copytree(SEED.parent, root / "seeds"))
    database = root / "register.db"
    drafts = seeds / "earlier"
    drafts.mkdir()
    records = {}
    with open_register(database) as register:
        references = []
        for name, date, subject in EARLIER_NOTES:
            path = drafts / f"{name}.yaml"
            path.write_text(EARLIER_NOTE.format(date=date, subject=subject), encoding="utf-8")
            reference, _ = _issue(register, path, FAST)
            references.append(reference)
            records[name] = json.loads(register.records(reference))
        assert references == NUMBERS
        register.reply(NUMBERS[0], received=REPLIED, recorded_by="desk", now=NOW)
        # The worked note itself, issued: the register numbers it.
        note = seeds / SEED.name / "note.yaml"
        text = note.read_text(encoding="utf-8")
        assert "  reference: 12/345/2025\n" in text
        note.write_text(text.replace("  reference: 12/345/2025\n", ""), encoding="utf-8")
        reference, pdf = _issue(register, note)
    return Issued(seeds, database, records, pdf, reference)


def test_each_earlier_note_recalled_the_ones_before_it(issued: Issued) -> None:
    """Each earlier note's rule chose the incidents before its own, and its
    issue recalled the notes already issued on them (the reply was recorded
    after all four were issued)."""
    chosen = {name: record["note"].get("earlier", []) for name, record in issued.records.items()}
    assert chosen == {"kharkiv": [], "kyiv-2024": EARLIER[:1], "odesa": EARLIER[:2],
                      "kyiv-2025": EARLIER[:3]}
    recalled = {name: [note["reference"] for note in record["note"].get("recalled_notes", [])]
                for name, record in issued.records.items()}
    assert recalled == {"kharkiv": [], "kyiv-2024": NUMBERS[:1], "odesa": NUMBERS[:2],
                        "kyiv-2025": NUMBERS[:3]}


def _phrases() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "templates" / "catalogues" / "en.yaml").read_text(
        encoding="utf-8"))
    return {key: value for key, value in data["phrases"].items() if isinstance(value, str)}


def _chain(phrases: dict[str, str], base: str, items: list[str]) -> str:
    """``items`` joined as the catalogue's comments say: ``.pair`` for two,
    else ``.more`` between the first ones and ``.last`` before the last."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return phrases[f"{base}.pair"].format(first=items[0], last=items[1])
    joined = items[0]
    for item in items[1:-1]:
        joined = phrases[f"{base}.more"].format(first=joined, next=item)
    return phrases[f"{base}.last"].format(first=joined, last=items[-1])


#: The notes' dates, as English writes a date.
ENGLISH_DATES = {"12/1/2022": "11 March 2022", "12/1/2024": "3 January 2024",
                 "12/1/2025": "19 August 2025", "12/2/2025": "29 August 2025"}


def expected_recall() -> str:
    """The worked note's recall sentence in English: the three unanswered
    notes in one group (oldest first), then the answered one, with its
    reply's date; "the Ministry" and "the Embassy" are the parties' short
    names (seeds/profiles/az-mfa.yaml, the catalogue's ru-embassy-baku)."""
    phrases = _phrases()
    names = {"sender_short": "the Ministry", "addressee_short": "the Embassy"}

    def item(number: str) -> str:
        return phrases["earlier_notes.item"].format(
            reference=phrases["reference"].format(number=number), number=number,
            date=ENGLISH_DATES[number])

    unanswered = phrases["earlier_notes.unanswered.several"].format(
        **names, notes=_chain(phrases, "earlier_notes.join", [item(n) for n in NUMBERS[1:]]))
    answered = phrases["earlier_notes.answered"].format(
        **names, note=item(NUMBERS[0]),
        replies=phrases["earlier_notes.reply.unnumbered"].format(date="1 April 2022"))
    sentence = phrases["earlier_notes"].format(
        **names, notes=_chain(phrases, "earlier_notes", [unanswered, answered]))
    return sentence[0].upper() + sentence[1:]


def test_the_worked_note_recalls_the_earlier_notes_and_the_reply(issued: Issued) -> None:
    records = json.loads(extract_record(issued.pdf))
    assert records["note"]["earlier"] == EARLIER
    assert [(note["reference"], note["date"]) for note in records["note"]["recalled_notes"]] \
        == [(number, date) for number, (_, date, _) in zip(NUMBERS, EARLIER_NOTES, strict=True)]
    replies = [note.get("replies", []) for note in records["note"]["recalled_notes"]]
    assert replies[0] == [{"received": REPLIED.isoformat()}]
    assert replies[1:] == [[], [], []]
    sentence = expected_recall()
    assert "which have remained unanswered" in sentence  # the phrases as en.yaml has them
    assert "replied on 1 April 2022" in sentence
    text = flat(pdf_text(issued.pdf))
    assert sentence in text
    # After the chronology: the last incident recalled comes first.
    assert text.index("28 August 2025") < text.index(sentence)


@pytest.mark.parametrize("lang", ["ru", "az", "fr"])
def test_every_language_recalls_each_number_and_date(issued: Issued, lang: str) -> None:
    case = load_case(extract_record(issued.pdf))
    words = load_catalogue(lang, builtin())
    assert words is not None
    text = plain(prepare(case, RenderOptions(lang=lang)).context.earlier_notes.text)
    # Each note by its number and date, and the reply by its date, in one
    # sentence (the order of its parts is the language's own).
    for number, (_, date, _) in zip(NUMBERS, EARLIER_NOTES, strict=True):
        assert text.count(number) == 1, number
        assert plain(words.date(dt.date.fromisoformat(date))) in text, number
    assert plain(words.date(REPLIED)) in text
    assert text.endswith(".")


def test_the_issued_note_renders_the_same_after_the_catalogue_grows(issued: Issued) -> None:
    catalogue = issued.seeds / "az-mfa-catalogue"
    (catalogue / "later.yaml").write_text(
        "incidents:\n"
        "  - id: kyiv-2023-05-18\n"
        "    date: 2023-05-18\n"
        "    place: {en: Kyiv, ru: Киев, az: Kiyev, fr: Kyiv}\n"
        "    country: ua\n"
        "    attributed_to: ru\n"
        "    conflict: ru-ua\n"
        "    impacts: [{facility: az-residence-kyiv, effect: damaged}]\n"
        "    account: {en: debris damaged the residence of the Ambassador,"
        " ru: обломки повредили резиденцию Посла, az: qəlpələr Səfirin iqamətgahına ziyan"
        " vurmuşdur, fr: des débris ont endommagé la résidence de l'Ambassadeur}\n",
        encoding="utf-8")
    note = issued.seeds / SEED.name / "note.yaml"
    grown = load_case(note)
    # The rule chooses the new incident, in its place by date.
    assert grown.note.earlier == [EARLIER[0], "kyiv-2023-05-18", *EARLIER[1:]]
    # The note as issued: its own records, not the catalogue as it is now.
    again = load_case(extract_record(issued.pdf))
    assert again.note.earlier == EARLIER
    assert render_pdf(again) == issued.pdf
    assert notegen.verify_pdf(issued.pdf).record == "matches"
