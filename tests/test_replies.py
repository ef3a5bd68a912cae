"""Issue 21, the register's half: replies recorded, and earlier notes recalled.

A register in a temporary folder is seeded by issuing real notes from
variants of the worked case (one per earlier incident, 2022–2025), with
replies; the worked note then recalls exactly the notes the rule picks, in
the words each language's catalogue gives. The expected sentences below are
written from the rule (which notes, grouped how, in which form), not copied
from a render.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html as html_module
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from notegen import RegisterError, RenderOptions, load_case, open_register, render_html
from notegen.archive import register as module
from notegen.archive.register import Register
from notegen.archive.verify import extract_record
from notegen.cli import cli
from notegen.options import Document
from notegen.records.case import Case, load_case_data
from notegen.records.models import NoteType, RecalledNote, RecalledReply, ReplyTo
from notegen.render.pdf import render_pdf
from notegen.template_folders import builtin
from notegen.wording.catalogue import Name, load_catalogue
from notegen.wording.companions import PressRelease
from notegen.wording.prepare import prepare
from notegen.wording.recall import recall

from .conftest import SEED
from .test_register import postgres, register_url  # noqa: F401  (fixtures)

FAST = RenderOptions(pdf_variant=None, embed_record=False)
NOW = dt.datetime(2025, 11, 20, 9, 0, tzinfo=dt.UTC)

#: An earlier note of the Ministry: its date, its subject and its chronology. It
#: includes the catalogue's files rather than naming the catalogue, which would
#: warn of the incidents its hand-written chronology leaves out.
NOTE = """\
include: [../profiles/az-mfa.yaml, ../az-mfa-catalogue/parties.yaml,
          ../az-mfa-catalogue/incidents.yaml, ../az-mfa-catalogue/situation.yaml]
note:
  language: en
  date: {date}
  sender: az-mfa
  addressee: ru-embassy-baku
  subject: {subject}
  earlier: [{earlier}]
  chronology_required: false
  protest: {{en: protest against the attack on the premises of the Republic of Azerbaijan}}
  demands: [{{kind: investigation}}]
"""


def write_note(folder: Path, name: str, date: str, subject: str, *earlier: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(NOTE.format(date=date, subject=subject, earlier=", ".join(earlier)),
                    encoding="utf-8")
    return path


def issue(register: Register, path: Path) -> str:
    entry, _ = register.issue(load_case(path), FAST, issued_by="officer", now=NOW)
    return entry.reference


@dataclasses.dataclass(frozen=True)
class Seeded:
    """A register seeded with the Ministry's notes on the worked case's incidents."""

    folder: Path
    database: Path
    #: The references issued, by the name of their case.
    refs: dict[str, str]


def seed(folder: Path, register: Register) -> dict[str, str]:
    """The earlier notes, in the order issued:

    - 12/1/2022 of 11 March 2022 on Kharkiv; answered on 1 April 2022 (no number);
    - 12/1/2024 of 3 January 2024 on Kyiv 2024, recalling Kharkiv; unanswered;
    - 12/1/2025 of 19 August 2025 on Odesa, recalling Kyiv 2024; answered by
      Note No. 4512, received 25 August 2025, found unsatisfactory;
    - 12/2/2025 of 29 August 2025 on Kyiv August 2025; its reply came on
      1 December 2025, after the worked note's date: unanswered as of then;
    - 12/3/2025 of 1 September 2025 on Kyiv August 2025: cancelled;
    - 12/4/2025 of 1 December 2025 on Kyiv August 2025: after the worked note.
    """
    notes = {
        "kharkiv": ("2022-03-11", "kharkiv-2022-03-10"),
        "kyiv2024": ("2024-01-03", "kyiv-2024-01-02", "kharkiv-2022-03-10"),
        "odesa": ("2025-08-19", "odesa-2025-08", "kyiv-2024-01-02"),
        "kyiv2025": ("2025-08-29", "kyiv-2025-08-28"),
        "cancelled": ("2025-09-01", "kyiv-2025-08-28"),
        "later": ("2025-12-01", "kyiv-2025-08-28"),
    }
    refs = {name: issue(register, write_note(folder, name, *fields))
            for name, fields in notes.items()}
    assert list(refs.values()) == ["12/1/2022", "12/1/2024", "12/1/2025", "12/2/2025",
                                   "12/3/2025", "12/4/2025"]
    register.reply(refs["kharkiv"], received=dt.date(2022, 4, 1), recorded_by="desk", now=NOW)
    register.reply(refs["odesa"], received=dt.date(2025, 8, 25), their_reference="4512",
                   unsatisfactory=True, recorded_by="desk", now=NOW,
                   summary="denies any involvement")
    register.reply(refs["kyiv2025"], received=dt.date(2025, 12, 1), their_reference="4700",
                   recorded_by="desk", now=NOW)
    register.cancel(refs["cancelled"], reason="issued twice", cancelled_by="head", now=NOW)
    return refs


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    root = tmp_path_factory.mktemp("replies")
    shutil.copytree(SEED.parent, root / "seeds")
    folder = root / "seeds" / SEED.name
    database = root / "register.db"
    with open_register(database) as register:
        refs = seed(folder, register)
    return Seeded(folder, database, refs)


def plain(text: str) -> str:
    """Text as read: tags and entities gone, no-break and narrow spaces as
    spaces, typographic apostrophes straight, soft hyphens out, and the space
    French typography puts before a semicolon removed."""
    text = html_module.unescape(re.sub(r"<[^>]+>", "", text))
    text = text.replace("\u00ad", "").replace("\u2019", "'")
    text = re.sub(r"[\u00a0\u202f\u2009]", " ", text)
    text = re.sub(r" +;", ";", text)
    return re.sub(r"\s+", " ", text)


def worked_case(seeded: Seeded) -> Case:
    with open_register(seeded.database) as register:
        return register.with_history(load_case(seeded.folder / "note.yaml"))


# The worked note of 14 November 2025 (its subject Kyiv, its chronology
# Kharkiv 2022, Kyiv 2024, Odesa and Kyiv August 2025) recalls, oldest first:
# 12/1/2022 (answered, no number), 12/1/2024 (unanswered), 12/1/2025
# (answered by 4512, unsatisfactory), 12/2/2025 (unanswered: its reply came
# later). Not 12/3/2025 (cancelled) nor 12/4/2025 (dated after it). The
# unanswered notes go together, first; each answered one follows; then the
# sentence on the unsatisfactory reply. Russian recalls with «напоминает о»
# and the prepositional («о своих нотах …, оставшихся без ответа»), and says
# who answered, how and when («на которую Посольство ответило нотой № …,
# полученной …»; a reply without a number by its date alone);
# Azerbaijani separates the groups by semicolons, and does not "consider the
# explanations satisfactory" («izahatları qənaətbəxş hesab etmir»).
EXPECTED = {
    "en": "The Ministry recalls its Notes No. 12/1/2024 of 3 January 2024 and No. 12/2/2025 "
          "of 29 August 2025, which have remained unanswered; its Note No. 12/1/2022 of "
          "11 March 2022, to which the Embassy replied on 1 April 2022; and its Note "
          "No. 12/1/2025 of 19 August 2025, to which the Embassy replied by its Note "
          "No. 4512 received on 25 August 2025. The Ministry considers that the explanations "
          "given in the Embassy's Note No. 4512 received on 25 August 2025 are not "
          "satisfactory.",
    "ru": "Министерство напоминает о своих нотах № 12/1/2024 от 3 января 2024 года и "
          "№ 12/2/2025 от 29 августа 2025 года, оставшихся без ответа; о своей ноте "
          "№ 12/1/2022 от 11 марта 2022 года, на которую Посольство ответило 1 апреля "
          "2022 года; а также о своей ноте № 12/1/2025 от 19 августа 2025 года, на которую "
          "Посольство ответило нотой № 4512, полученной 25 августа 2025 года. Министерство "
          "считает неудовлетворительными разъяснения, содержащиеся в "
          "ноте Посольства № 4512, полученной 25 августа 2025 года.",
    "fr": "Le Ministère rappelle ses notes n° 12/1/2024 du 3 janvier 2024 et n° 12/2/2025 du "
          "29 août 2025, restées sans réponse; sa note n° 12/1/2022 du 11 mars 2022, à "
          "laquelle l'Ambassade a répondu le 1er avril 2022; ainsi que sa note n° 12/1/2025 "
          "du 19 août 2025, à laquelle l'Ambassade a répondu par sa note n° 4512 reçue le "
          "25 août 2025. Le Ministère considère que les explications fournies dans la note "
          "de l'Ambassade n° 4512 reçue le 25 août 2025 ne sont pas satisfaisantes.",
    "az": "Nazirlik cavabsız qalmış 3 yanvar 2024-cü il tarixli 12/1/2024 saylı və 29 avqust "
          "2025-ci il tarixli 12/2/2025 saylı notalarını; Səfirliyin 1 aprel 2022-ci il "
          "tarixində cavab verdiyi 11 mart 2022-ci il tarixli 12/1/2022 saylı notasını; "
          "həmçinin Səfirliyin 25 avqust 2025-ci il tarixində alınmış 4512 saylı notası ilə "
          "cavab verdiyi 19 avqust 2025-ci il tarixli 12/1/2025 saylı notasını xatırladır. "
          "Nazirlik Səfirliyin 25 avqust 2025-ci il tarixində alınmış 4512 saylı notasında "
          "verilmiş izahatları qənaətbəxş hesab etmir.",
}


def test_the_register_knows_which_notes_protested_each_incident(seeded: Seeded) -> None:
    case = worked_case(seeded)
    recalled = case.note.recalled_notes
    assert [(note.reference, note.date.isoformat(), note.incidents) for note in recalled] == [
        ("12/1/2022", "2022-03-11", ["kharkiv-2022-03-10"]),
        # Subject Kyiv 2024, and Kharkiv in its chronology: both are the worked note's.
        ("12/1/2024", "2024-01-03", ["kharkiv-2022-03-10", "kyiv-2024-01-02"]),
        ("12/1/2025", "2025-08-19", ["kyiv-2024-01-02", "odesa-2025-08"]),
        ("12/2/2025", "2025-08-29", ["kyiv-2025-08-28"])]
    assert [[(r.received.isoformat(), r.reference, r.unsatisfactory) for r in note.replies]
            for note in recalled] == [[("2022-04-01", None, False)], [],
                                      [("2025-08-25", "4512", True)], []]


@pytest.mark.parametrize("lang", ["en", "ru", "fr", "az"])
def test_the_note_recalls_the_earlier_notes_in_each_language(seeded: Seeded, lang: str
                                                             ) -> None:
    case = worked_case(seeded)
    options = RenderOptions(lang=lang)
    assert plain(prepare(case, options).context.earlier_notes.text) == EXPECTED[lang]
    # In the note, after the chronology and before the further recalls.
    note = plain(render_html(case, options))
    assert EXPECTED[lang] in note
    last_entry = plain(prepare(case, options).context.chronology[-1].entry)
    assert note.index(last_entry) < note.index(EXPECTED[lang])


#: A note on Kyiv 2024 alone, dated 1 June 2024: only 12/1/2024 protested it
#: by then, and it is unanswered. One note: the singular forms.
SINGLE = {
    "en": "The Ministry recalls its Note No. 12/1/2024 of 3 January 2024, which has remained "
          "unanswered.",
    "ru": "Министерство напоминает о своей ноте № 12/1/2024 от 3 января 2024 года, "
          "оставшейся без ответа.",
    "fr": "Le Ministère rappelle sa note n° 12/1/2024 du 3 janvier 2024, restée sans réponse.",
    "az": "Nazirlik cavabsız qalmış 3 yanvar 2024-cü il tarixli 12/1/2024 saylı notasını "
          "xatırladır.",
}


@pytest.mark.parametrize("lang", ["en", "ru", "fr", "az"])
def test_one_note_is_recalled_in_the_singular(seeded: Seeded, lang: str) -> None:
    path = write_note(seeded.folder, f"single-{lang}", "2024-06-01", "kyiv-2024-01-02")
    # The worked case's protest is in four languages; this one only in English.
    text = path.read_text(encoding="utf-8").replace(
        "protest: {en: protest against the attack on the premises of the Republic of "
        "Azerbaijan}", "protest: {en: protest, ru: заявить протест, fr: protester, "
                       "az: etiraz}")
    path.write_text(text, encoding="utf-8")
    with open_register(seeded.database) as register:
        case = register.with_history(load_case(path))
    assert [note.reference for note in case.note.recalled_notes] == ["12/1/2024"]
    text = plain(prepare(case, RenderOptions(lang=lang)).context.earlier_notes.text)
    assert text == SINGLE[lang]


def test_every_note_type_and_companion_recalls_them(seeded: Seeded) -> None:
    """Each voice its own: the Minister's "I recall the Ministry's Notes",
    the aide-mémoire's side, the talking points' "our Notes"; the press
    release speaks of the Ministry in the third person, as the note verbale."""
    case = worked_case(seeded)
    unanswered = ("Notes No. 12/1/2024 of 3 January 2024 and No. 12/2/2025 of 29 August 2025, "
                  "which have remained unanswered")
    expected = {
        NoteType.first_person_note: f"I recall the Ministry's {unanswered}; the Ministry's "
                                    "Note No. 12/1/2022 of 11 March 2022",
        NoteType.aide_memoire: f"The Azerbaijani side recalls its {unanswered}; its Note "
                               "No. 12/1/2022",
    }
    for note_type, start in expected.items():
        html = plain(render_html(case, RenderOptions(note_type=note_type)))
        assert start in html, note_type
    points = plain(render_html(case, RenderOptions(document=Document.talking_points)))
    assert f"We recall our {unanswered}; our Note No. 12/1/2022 of 11 March 2022" in points
    assert ("We consider that the explanations given in the Embassy's Note No. 4512 received "
            "on 25 August 2025 are not satisfactory.") in points
    release = plain(render_html(case, RenderOptions(document=Document.press_release)))
    assert EXPECTED["en"] in release
    # After the chronology's paragraph, before the Ministry's position.
    companion = prepare(case, RenderOptions(document=Document.press_release)).companion
    assert isinstance(companion, PressRelease)
    paragraphs = [plain(p) for p in companion.paragraphs]
    assert release.index(paragraphs[2]) < release.index(EXPECTED["en"]) \
        < release.index(paragraphs[3])


#: The Minister's first-person note recalls the Ministry's notes, saying
#: whose: «о ноте Министерства № …» (the Ministry's short name in the
#: genitive), «la note de mon Ministère n° …» («mon» agreeing with «le
#: Ministère»), "Nazirliyin … notasını" (the genitive, the noun possessed).
#: Unanswered 12/1/2024, then 12/1/2025 answered by 4512.
FIRST_PERSON = {
    "ru": "Напоминаю о ноте Министерства № 12/1/2024 от 3 января 2024 года, оставшейся без "
          "ответа, а также о ноте Министерства № 12/1/2025 от 19 августа 2025 года, на которую "
          "Посольство ответило нотой № 4512, полученной 25 августа 2025 года.",
    "fr": "Je rappelle la note de mon Ministère n° 12/1/2024 du 3 janvier 2024, restée sans "
          "réponse, ainsi que la note de mon Ministère n° 12/1/2025 du 19 août 2025, à laquelle "
          "l'Ambassade a répondu par sa note n° 4512 reçue le 25 août 2025.",
    "az": "Nazirliyin cavabsız qalmış 3 yanvar 2024-cü il tarixli 12/1/2024 saylı notasını; "
          "həmçinin Səfirliyin 25 avqust 2025-ci il tarixində alınmış 4512 saylı notası ilə "
          "cavab verdiyi Nazirliyin 19 avqust 2025-ci il tarixli 12/1/2025 saylı notasını "
          "xatırladıram.",
}
#: Two unanswered notes: the plural.
FIRST_PERSON_SEVERAL = {
    "ru": "Напоминаю о нотах Министерства № 12/1/2022 от 11 марта 2022 года и № 12/1/2024 от "
          "3 января 2024 года, оставшихся без ответа.",
    "fr": "Je rappelle les notes de mon Ministère n° 12/1/2022 du 11 mars 2022 et n° 12/1/2024 "
          "du 3 janvier 2024, restées sans réponse.",
    "az": "Nazirliyin cavabsız qalmış 11 mart 2022-ci il tarixli 12/1/2022 saylı və 3 yanvar "
          "2024-cü il tarixli 12/1/2024 saylı notalarını xatırladıram.",
}


@pytest.mark.parametrize("lang", ["ru", "fr", "az"])
def test_the_minister_says_whose_notes_he_recalls(worked: Case, lang: str) -> None:
    first = NoteType.first_person_note
    case = recalling(worked, note("12/1/2024", D(2024, 1, 3)),
                     note("12/1/2025", D(2025, 8, 19), answer(D(2025, 8, 25), "4512")))
    assert plain(recall_text(case, lang, note_type=first)) == FIRST_PERSON[lang]
    case = recalling(worked, note("12/1/2022", D(2022, 3, 11)), note("12/1/2024", D(2024, 1, 3)))
    assert plain(recall_text(case, lang, note_type=first)) == FIRST_PERSON_SEVERAL[lang]


def test_an_ambassador_recalls_the_notes_of_his_embassy_in_french() -> None:
    """«mon» agrees with the sender's short name, and «ma» before a vowel is
    «mon» (an elision of the catalogue): «la note de mon Ambassade»."""
    catalogue = load_catalogue("fr", builtin())
    assert catalogue is not None
    catalogue = catalogue.with_phrases({}, variant="first_person_note")
    for short, gender, words in [("l'Ambassade", "feminine", "de mon Ambassade"),
                                 ("la Mission", "feminine", "de ma Mission"),
                                 ("le Consulat", "masculine", "de mon Consulat")]:
        names = {"sender_short": Name(short, gender=gender),
                 "addressee_short": Name("le Ministère", gender="masculine")}
        assert plain(recall([note("12/1/2024", D(2024, 1, 3))], catalogue, names)) == (
            f"Je rappelle la note {words} n° 12/1/2024 du 3 janvier 2024, restée sans réponse.")


# The wording of each rule, from histories given as records (no register):
# which phrase, which number (one note, several), how lists are joined.

D = dt.date


def recalling(case: Case, *notes: RecalledNote) -> Case:
    return dataclasses.replace(case, note=case.note.model_copy(
        update={"recalled_notes": list(notes)}))


def recall_text(case: Case, lang: str, **options: object) -> str:
    prepared = prepare(case, RenderOptions(lang=lang, **options))  # type: ignore[arg-type]
    return prepared.context.earlier_notes.text


def note(reference: str, date: dt.date, *replies: RecalledReply) -> RecalledNote:
    return RecalledNote(reference=reference, date=date, incidents=["kyiv-2024-01-02"],
                        replies=list(replies))


def answer(received: dt.date, reference: str | None = None,
           unsatisfactory: bool = False) -> RecalledReply:
    return RecalledReply(received=received, reference=reference, unsatisfactory=unsatisfactory)


@pytest.fixture(scope="module")
def worked() -> Case:
    return load_case(SEED / "note.yaml")


#: Three notes found unsatisfactory: 4100 (to 12/1/2024), 4512 and 4600 (both
#: to 12/1/2025). The sentence on them lists the three. An item holding a
#: participle that agrees with one note (Russian «полученной», French
#: «reçue») cannot follow a plural noun: Russian and French repeat the noun
#: for each («в ноте Посольства № 4100, полученной …, в ноте № 4512, …, и в
#: ноте № 4600, …»; «dans la note de l'Ambassade n° 4100 reçue le …, dans sa
#: note n° 4512 … et dans sa note n° 4600 …»), Russian closing each
#: participial phrase with a comma, before «и» too. English "received" does
#: not agree ("the Embassy's Notes No. 4100 received on …"), nor does
#: Azerbaijani "alınmış", whose items share "notalarında".
REJECTED = {
    "en": "The Ministry considers that the explanations given in the Embassy's Notes "
          "No. 4100 received on 1 February 2024, No. 4512 received on 25 August 2025 and "
          "No. 4600 received on 2 September 2025 are not satisfactory.",
    "ru": "Министерство считает неудовлетворительными разъяснения, содержащиеся в ноте "
          "Посольства № 4100, полученной 1 февраля 2024 года, в ноте № 4512, полученной "
          "25 августа 2025 года, и в ноте № 4600, полученной 2 сентября 2025 года.",
    "fr": "Le Ministère considère que les explications fournies dans la note de "
          "l'Ambassade n° 4100 reçue le 1er février 2024, dans sa note n° 4512 reçue le "
          "25 août 2025 et dans sa note n° 4600 reçue le 2 septembre 2025 ne sont pas "
          "satisfaisantes.",
    "az": "Nazirlik Səfirliyin 1 fevral 2024-cü il tarixində alınmış 4100 saylı, 25 avqust "
          "2025-ci il tarixində alınmış 4512 saylı və 2 sentyabr 2025-ci il tarixində "
          "alınmış 4600 saylı notalarında verilmiş izahatları qənaətbəxş hesab etmir.",
}


@pytest.mark.parametrize("lang", ["en", "ru", "fr", "az"])
def test_several_unsatisfactory_replies_are_listed_in_the_language_s_way(worked: Case,
                                                                        lang: str) -> None:
    case = recalling(
        worked, note("12/1/2024", D(2024, 1, 3), answer(D(2024, 2, 1), "4100", True)),
        note("12/1/2025", D(2025, 8, 19), answer(D(2025, 8, 25), "4512", True),
             answer(D(2025, 9, 2), "4600", True)))
    assert plain(recall_text(case, lang)).endswith(" " + REJECTED[lang])


#: One note answered by two replies, both found unsatisfactory. Russian
#: answers «нотой …, полученной …, и нотой …», the participial phrase
#: closed before «и», and repeats «в ноте» in the second sentence; French
#: repeats «dans sa note»; Azerbaijani lets the two numbered replies share one
#: noun, in the plural: "4512 saylı və … 4600 saylı notaları ilə".
TWO_REPLIES = {
    "ru": "Министерство напоминает о своей ноте № 12/1/2025 от 19 августа 2025 года, на "
          "которую Посольство ответило нотой № 4512, полученной 25 августа 2025 года, и "
          "нотой № 4600, полученной 2 сентября 2025 года. Министерство считает "
          "неудовлетворительными разъяснения, содержащиеся в ноте Посольства № 4512, "
          "полученной 25 августа 2025 года, и в ноте № 4600, полученной 2 сентября "
          "2025 года.",
    "fr": "Le Ministère rappelle sa note n° 12/1/2025 du 19 août 2025, à laquelle "
          "l'Ambassade a répondu par sa note n° 4512 reçue le 25 août 2025 et par sa note "
          "n° 4600 reçue le 2 septembre 2025. Le Ministère considère que les explications "
          "fournies dans la note de l'Ambassade n° 4512 reçue le 25 août 2025 et dans sa "
          "note n° 4600 reçue le 2 septembre 2025 ne sont pas satisfaisantes.",
    "az": "Nazirlik Səfirliyin 25 avqust 2025-ci il tarixində alınmış 4512 saylı və "
          "2 sentyabr 2025-ci il tarixində alınmış 4600 saylı notaları ilə cavab verdiyi "
          "19 avqust 2025-ci il tarixli 12/1/2025 saylı notasını xatırladır. Nazirlik "
          "Səfirliyin 25 avqust 2025-ci il tarixində alınmış 4512 saylı və 2 sentyabr "
          "2025-ci il tarixində alınmış 4600 saylı notalarında verilmiş izahatları "
          "qənaətbəxş hesab etmir.",
}


@pytest.mark.parametrize("lang", ["ru", "fr", "az"])
def test_two_replies_to_one_note(worked: Case, lang: str) -> None:
    case = recalling(worked, note("12/1/2025", D(2025, 8, 19),
                                  answer(D(2025, 8, 25), "4512", True),
                                  answer(D(2025, 9, 2), "4600", True)))
    assert plain(recall_text(case, lang)) == TWO_REPLIES[lang]


def test_russian_puts_a_comma_before_i_only_after_a_participial_phrase(worked: Case) -> None:
    # A reply by its date alone holds no participial phrase: no comma after it.
    case = recalling(worked, note("12/1/2024", D(2024, 1, 3), answer(D(2024, 1, 20)),
                                  answer(D(2024, 2, 1), "4100"), answer(D(2024, 2, 9))))
    assert plain(recall_text(case, "ru")) == (
        "Министерство напоминает о своей ноте № 12/1/2024 от 3 января 2024 года, на которую "
        "Посольство ответило 20 января 2024 года, нотой № 4100, полученной 1 февраля "
        "2024 года, и 9 февраля 2024 года.")
    # The notes of one group hold no participial phrase each: no comma before «и».
    case = recalling(worked, note("12/1/2022", D(2022, 3, 11)), note("12/1/2024", D(2024, 1, 3)),
                     note("12/2/2025", D(2025, 8, 29)))
    assert plain(recall_text(case, "ru")) == (
        "Министерство напоминает о своих нотах № 12/1/2022 от 11 марта 2022 года, "
        "№ 12/1/2024 от 3 января 2024 года и № 12/2/2025 от 29 августа 2025 года, "
        "оставшихся без ответа.")


#: One note unanswered, one answered: two groups. The Russian participial
#: phrase of the first is closed before «а также»; Azerbaijani separates the
#: groups by a semicolon.
TWO_GROUPS = {
    "en": "The Ministry recalls its Note No. 12/1/2024 of 3 January 2024, which has remained "
          "unanswered, and its Note No. 12/1/2025 of 19 August 2025, to which the Embassy "
          "replied by its Note No. 4512 received on 25 August 2025.",
    "ru": "Министерство напоминает о своей ноте № 12/1/2024 от 3 января 2024 года, оставшейся "
          "без ответа, а также о своей ноте № 12/1/2025 от 19 августа 2025 года, на которую "
          "Посольство ответило нотой № 4512, полученной 25 августа 2025 года.",
    "fr": "Le Ministère rappelle sa note n° 12/1/2024 du 3 janvier 2024, restée sans réponse, "
          "ainsi que sa note n° 12/1/2025 du 19 août 2025, à laquelle l'Ambassade a répondu "
          "par sa note n° 4512 reçue le 25 août 2025.",
    "az": "Nazirlik cavabsız qalmış 3 yanvar 2024-cü il tarixli 12/1/2024 saylı notasını; "
          "həmçinin Səfirliyin 25 avqust 2025-ci il tarixində alınmış 4512 saylı notası ilə "
          "cavab verdiyi 19 avqust 2025-ci il tarixli 12/1/2025 saylı notasını xatırladır.",
}


@pytest.mark.parametrize("lang", ["en", "ru", "fr", "az"])
def test_an_unanswered_and_an_answered_note(worked: Case, lang: str) -> None:
    case = recalling(worked, note("12/1/2024", D(2024, 1, 3)),
                     note("12/1/2025", D(2025, 8, 19), answer(D(2025, 8, 25), "4512")))
    assert plain(recall_text(case, lang)) == TWO_GROUPS[lang]


def test_english_and_french_agree_in_number(worked: Case) -> None:
    """One note "has remained" / «restée», several "have remained" /
    «restées»; one reply found unsatisfactory: "the explanations given in
    the Embassy's Note … are not satisfactory" (the explanations are plural
    whatever the number of notes)."""
    one = recalling(worked, note("12/1/2025", D(2025, 8, 19),
                                 answer(D(2025, 8, 25), "4512", True)))
    assert plain(recall_text(one, "en")) == (
        "The Ministry recalls its Note No. 12/1/2025 of 19 August 2025, to which the Embassy "
        "replied by its Note No. 4512 received on 25 August 2025. The Ministry considers that "
        "the explanations given in the Embassy's Note No. 4512 received on 25 August 2025 are "
        "not satisfactory.")
    assert plain(recall_text(one, "fr")) == (
        "Le Ministère rappelle sa note n° 12/1/2025 du 19 août 2025, à laquelle l'Ambassade a "
        "répondu par sa note n° 4512 reçue le 25 août 2025. Le Ministère considère que les "
        "explications fournies dans la note de l'Ambassade n° 4512 reçue le 25 août 2025 ne "
        "sont pas satisfaisantes.")
    three = recalling(worked, note("12/1/2022", D(2022, 3, 11)),
                      note("12/1/2024", D(2024, 1, 3)), note("12/2/2025", D(2025, 8, 29)))
    assert plain(recall_text(three, "en")) == (
        "The Ministry recalls its Notes No. 12/1/2022 of 11 March 2022, No. 12/1/2024 of "
        "3 January 2024 and No. 12/2/2025 of 29 August 2025, which have remained unanswered.")
    assert plain(recall_text(three, "fr")) == (
        "Le Ministère rappelle ses notes n° 12/1/2022 du 11 mars 2022, n° 12/1/2024 du "
        "3 janvier 2024 et n° 12/2/2025 du 29 août 2025, restées sans réponse.")
    # A note answered twice, once without a number.
    twice = recalling(worked, note("12/1/2024", D(2024, 1, 3), answer(D(2024, 1, 20)),
                                   answer(D(2024, 2, 1), "4100")))
    assert plain(recall_text(twice, "en")) == (
        "The Ministry recalls its Note No. 12/1/2024 of 3 January 2024, to which the Embassy "
        "replied on 20 January 2024 and by its Note No. 4100 received on 1 February 2024.")
    assert plain(recall_text(twice, "fr")) == (
        "Le Ministère rappelle sa note n° 12/1/2024 du 3 janvier 2024, à laquelle l'Ambassade "
        "a répondu le 20 janvier 2024 et par sa note n° 4100 reçue le 1er février 2024.")


EXAMPLE = SEED.parent.parent / "examples" / "sre-templates"


def test_spanish_writes_num_in_lower_case_bound_to_the_number() -> None:
    """Inside a sentence Spanish writes «núm.», lower case, and a no-break
    space keeps it with the number: in the recall, and in the reference to
    the note a reply answers."""
    case = recalling(load_case(SEED.parent / "mx-quito-2024" / "note.yaml"),
                     note("12/1/2024", D(2024, 1, 3)),
                     note("12/1/2025", D(2024, 3, 1), answer(D(2024, 3, 8), "45", True)))
    text = recall_text(case, "es", template_dirs=(EXAMPLE,))
    assert plain(text) == (
        "La Secretaría recuerda su nota núm. 12/1/2024 del 3 de enero de 2024, que ha quedado "
        "sin respuesta, así como su nota núm. 12/1/2025 del 1 de marzo de 2024, a la que la "
        "Embajada respondió mediante su nota núm. 45 recibida el 8 de marzo de 2024. La "
        "Secretaría considera que las explicaciones dadas en la nota de la Embajada núm. 45 "
        "recibida el 8 de marzo de 2024 no son satisfactorias.")
    assert "Núm." not in text
    assert text.count("núm.\u00a0") == 4
    # Two replies found unsatisfactory: «recibida» agrees with one note, so
    # the noun is repeated («y en su nota …»), as in French.
    several = recalling(case, note("12/1/2025", D(2024, 3, 1), answer(D(2024, 3, 8), "45", True),
                                   answer(D(2024, 3, 20), "46", True)))
    assert plain(recall_text(several, "es", template_dirs=(EXAMPLE,))).endswith(
        " La Secretaría considera que las explicaciones dadas en la nota de la Embajada "
        "núm. 45 recibida el 8 de marzo de 2024 y en su nota núm. 46 recibida el 20 de marzo "
        "de 2024 no son satisfactorias.")
    reply = dataclasses.replace(case, note=case.note.model_copy(update={
        "in_reply_to": ReplyTo(reference="45/2024", date=D(2024, 4, 5))}))
    html = render_html(reply, RenderOptions(lang="es", template_dirs=(EXAMPLE,)))
    assert "con referencia a la nota de la Embajada núm. 45/2024 del 5 de abril de 2024" \
        in plain(html)
    assert "núm.\u00a045/2024" in html_module.unescape(re.sub(r"<[^>]+>", "", html))


# The same day: which notes of the register a note recalls.


def test_a_note_never_recalls_itself_nor_a_note_of_its_day_on_its_subject(
        seeded: Seeded, tmp_path: Path) -> None:
    """A note of 14 November 2025 on Odesa is issued (12/5/2025). Its draft,
    rendered again with the register, is the same note: it recalls the note
    of 19 August on Odesa (12/1/2025) as before, never 12/5/2025. A note of
    the same day on Kyiv August 2025, whose chronology holds Odesa, recalls
    12/5/2025: an earlier note of that day, on another subject. Cancelled
    and issued again (12/6/2025): the draft recalls neither; the other note
    recalls the one issued again, not the cancelled one; so does a note of
    the next day on Odesa."""
    database = tmp_path / "register.db"
    shutil.copyfile(seeded.database, database)
    same = write_note(seeded.folder, "same-day", "2025-11-14", "odesa-2025-08")
    other = write_note(seeded.folder, "same-day-other", "2025-11-14", "kyiv-2025-08-28",
                       "odesa-2025-08")

    def recalls(register: Register, path: Path) -> list[str]:
        return [n.reference for n in register.history(load_case(path))]

    with open_register(database) as register:
        assert recalls(register, same) == ["12/1/2025"]
        assert issue(register, same) == "12/5/2025"
        assert recalls(register, same) == ["12/1/2025"]
        # The issued note itself, from its records: the same.
        kept = load_case_data(register.records("12/5/2025"))
        assert [n.reference for n in register.history(kept)] == ["12/1/2025"]
        assert recalls(register, other) == ["12/1/2025", "12/2/2025", "12/5/2025"]
        register.cancel("12/5/2025", reason="wrong annex", cancelled_by="head", now=NOW)
        assert issue(register, same) == "12/6/2025"
        assert recalls(register, same) == ["12/1/2025"]
        assert recalls(register, other) == ["12/1/2025", "12/2/2025", "12/6/2025"]
        later = write_note(seeded.folder, "next-day", "2025-11-15", "odesa-2025-08")
        assert recalls(register, later) == ["12/1/2025", "12/6/2025"]


def test_without_a_register_nothing_changes(tmp_path: Path, runner: CliRunner,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The worked case renders as before: no register, or a register that
    holds nothing about its incidents, give the same bytes, and the records
    inside carry no recalled notes."""
    monkeypatch.delenv("NOTEGEN_REGISTER", raising=False)
    monkeypatch.chdir(tmp_path)
    case = load_case(SEED / "note.yaml")
    expected = render_pdf(case)
    assert b"recalled_notes" not in extract_record(expected)
    plain_pdf, empty_pdf = tmp_path / "plain.pdf", tmp_path / "empty.pdf"
    result = runner.invoke(cli, ["render", str(SEED / "note.yaml"), "-o", str(plain_pdf)])
    assert result.exit_code == 0, result.output
    with open_register(tmp_path / "empty.db"):
        pass
    result = runner.invoke(cli, ["render", str(SEED / "note.yaml"), "-o", str(empty_pdf),
                                 "--register", str(tmp_path / "empty.db")])
    assert result.exit_code == 0, result.output
    assert plain_pdf.read_bytes() == expected == empty_pdf.read_bytes()


def test_issue_recalls_them(seeded: Seeded, tmp_path: Path, runner: CliRunner,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """notegen issue recalls what the register holds; the library's
    Register.issue only when asked (recall=True)."""
    database = tmp_path / "register.db"
    shutil.copyfile(seeded.database, database)
    note = write_note(seeded.folder, "issued-by-cli", "2025-11-14", "kyiv-2025-08-28")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["issue", str(note), "--register", str(database),
                                 "--issued-by", "officer"])
    assert result.exit_code == 0, result.output
    records = json.loads(extract_record((tmp_path / "12-5-2025.pdf").read_bytes()))
    assert [n["reference"] for n in records["note"]["recalled_notes"]] == ["12/2/2025"]
    with open_register(database) as register:
        entry, _ = register.issue(load_case(note), FAST, issued_by="officer", now=NOW)
        assert entry.reference == "12/6/2025"
        assert b"recalled_notes" not in register.records(entry.reference)


def test_render_with_a_register_recalls_them(seeded: Seeded, tmp_path: Path,
                                             runner: CliRunner,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTEGEN_REGISTER", str(seeded.database))
    target = tmp_path / "note.html"
    result = runner.invoke(cli, ["render", str(seeded.folder / "note.yaml"), "--format",
                                 "html", "-o", str(target), "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert EXPECTED["fr"] in plain(target.read_text(encoding="utf-8"))


def test_an_issued_note_renders_the_same_after_the_register_grew(seeded: Seeded,
                                                                 tmp_path: Path) -> None:
    """Issue the worked note: its records keep what it recalled. Then a reply
    received before its date is recorded late, and another note is issued on
    its subject: the register's history has changed, yet the note renders
    from its records (embedded, or kept by the register) to the very bytes."""
    folder = tmp_path / "seeds"
    shutil.copytree(seeded.folder.parent, folder)
    database = tmp_path / "register.db"
    shutil.copyfile(seeded.database, database)
    note = folder / SEED.name / "note.yaml"
    note.write_text(note.read_text(encoding="utf-8").replace(
        "  reference: 12/345/2025\n", ""), encoding="utf-8")
    options = RenderOptions(pdf_variant=None)
    with open_register(database) as register:
        entry, pdf = register.issue(load_case(note), options, issued_by="officer", now=NOW,
                                    recall=True)
        assert entry.reference == "12/5/2025"
        records = extract_record(pdf)
        assert json.loads(records)["note"]["recalled_notes"][1] == {
            "reference": "12/1/2024", "date": "2024-01-03",
            "incidents": ["kharkiv-2022-03-10", "kyiv-2024-01-02"]}
        assert EXPECTED["en"] in plain(render_html(load_case_data(records), options))
        # The register grows: a late reply, and a later note on the same subject.
        register.reply("12/1/2024", received=dt.date(2025, 11, 10), their_reference="4650",
                       recorded_by="desk", now=NOW)
        later = write_note(folder / SEED.name, "again", "2025-11-14", "kyiv-2025-08-28")
        assert issue(register, later) == "12/6/2025"
        fresh = register.history(load_case(note))
        assert [r.reference for r in fresh[1].replies] == ["4650"]
        assert "12/6/2025" in [n.reference for n in fresh]
        # The issued note: from the register's records, and from its own.
        assert register.pdf(entry.reference, options)[1] == pdf
        kept = load_case_data(records)
        assert register.with_history(kept) is kept
        assert render_pdf(kept, options=options) == pdf
        # Its history as the register gives it for the note itself: what was
        # recorded before it, whatever came later with earlier dates.
        as_issued = register.history(dataclasses.replace(
            kept, note=kept.note.model_copy(update={"recalled_notes": []})))
        assert as_issued == kept.note.recalled_notes


# Replies, on the command line.


def test_the_reply_commands(seeded: Seeded, tmp_path: Path, runner: CliRunner,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "register.db"
    shutil.copyfile(seeded.database, database)
    monkeypatch.setenv("NOTEGEN_REGISTER", str(database))
    scan = tmp_path / "reply.pdf"
    scan.write_bytes(b"%PDF-1.7\n% the Embassy's note, scanned\n%%EOF\n")
    result = runner.invoke(cli, ["register", "reply", "12/1/2024", "--received", "2024-02-01",
                                 "--reference", "4100", "--summary", "regrets",
                                 "--file", str(scan), "--json", "--by", "desk"])
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.stdout)
    assert (recorded["reference"], recorded["received"], recorded["their_reference"],
            recorded["summary"], recorded["recorded_by"]) == (
        "12/1/2024", "2024-02-01", "4100", "regrets", "desk")
    assert recorded["file_size"] == len(scan.read_bytes())
    assert "recorded a reply to 12/1/2024, received 2024-02-01" in result.stderr
    listing = runner.invoke(cli, ["register", "replies", "12/1/2024"])
    assert listing.exit_code == 0
    assert listing.stdout.startswith("12/1/2024        received 2024-02-01  No. 4100")
    assert "regrets" in listing.stdout
    lines = runner.invoke(cli, ["register", "replies", "12/1/2025", "--json"]).stdout
    assert [json.loads(line)["unsatisfactory"] for line in lines.splitlines()] == [True]
    copy = tmp_path / "copy.pdf"
    fetched = runner.invoke(cli, ["register", "replies", "12/1/2024", "--file",
                                  recorded["file_sha256"], "-o", str(copy)])
    assert fetched.exit_code == 0, fetched.output
    assert copy.read_bytes() == scan.read_bytes()

    def refused(*args: str) -> str:
        result = runner.invoke(cli, ["register", "reply", *args])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        return result.stderr

    assert "no issued note '12/9/2024'" in refused("12/9/2024", "--received", "2024-02-01")
    assert "12/3/2025 of az-mfa is cancelled (issued twice): a cancelled note takes no " \
           "reply" in refused("12/3/2025", "--received", "2025-09-10")
    assert "cannot be received on 2023-12-31, before the note's date 2024-01-03" in refused(
        "12/1/2024", "--received", "2023-12-31")
    assert "the reply 4100 to 12/1/2024 is recorded already" in refused(
        "12/1/2024", "--received", "2024-02-02", "--reference", "4100")
    assert "give its reference (--reference)" in refused(
        "12/1/2024", "--received", "2024-02-02", "--unsatisfactory")
    text = tmp_path / "reply.txt"
    text.write_text("not a PDF")
    assert f"{text}: a reply's file is a PDF" in refused(
        "12/1/2024", "--received", "2024-02-02", "--file", str(text))
    monkeypatch.setattr(module, "MAX_REPLY_FILE", 16)
    monkeypatch.setattr("notegen.cli.registry.MAX_REPLY_FILE", 16)
    assert "a reply's file is at most" in refused("12/1/2024", "--received", "2024-02-02",
                                                  "--file", str(scan))
    # Usage errors: exit code 2.
    for args in (["12/1/2024"], ["12/1/2024", "--received", "1 February 2024"]):
        assert runner.invoke(cli, ["register", "reply", *args]).exit_code == 2
    # Nothing refused was written: the log holds the seeded entries and one reply more.
    audit = runner.invoke(cli, ["register", "audit"])
    assert audit.exit_code == 0, audit.output
    assert "11 entries (6 issued, 1 cancelled, 4 replies)" in audit.stdout


# The log: chained, audited, guarded, migrated.


def test_the_audit_covers_replies_and_their_files(seeded: Seeded, tmp_path: Path) -> None:
    database = tmp_path / "register.db"
    shutil.copyfile(seeded.database, database)
    with open_register(database) as register:
        register.reply("12/1/2024", received=dt.date(2024, 2, 1), recorded_by="desk",
                       file=b"%PDF-1.7 scan", now=NOW)
        audit = register.audit()
        assert (audit.intact, audit.entries) == (True, 11)
        assert "(6 issued, 1 cancelled, 4 replies)" in audit.finding
        head = audit.head

    def tampered(*statements: str) -> module.Audit:
        copy = tmp_path / f"tampered-{len(list(tmp_path.iterdir()))}.db"
        shutil.copyfile(database, copy)
        with sqlite3.connect(copy) as connection:
            for statement in statements:
                connection.execute(statement)
        with open_register(copy) as register:
            return register.audit()

    # The summary of the Odesa note's reply (entry 8), rewritten.
    audit = tampered("DROP TRIGGER replies_refuse_update",
                     "UPDATE replies SET summary = 'accepts responsibility' "
                     "WHERE their_reference = '4512'")
    assert (audit.intact, audit.position) == (False, 8)
    assert "reply 12/1/2025" in audit.finding
    assert "one of its fields was changed" in audit.finding
    # Its verdict turned.
    audit = tampered("DROP TRIGGER replies_refuse_update",
                     "UPDATE replies SET unsatisfactory = 0 WHERE their_reference = '4512'")
    assert (audit.intact, audit.position) == (False, 8)
    # The scan kept with the last reply, replaced.
    audit = tampered("DROP TRIGGER reply_files_refuse_update",
                     "UPDATE reply_files SET content = X'255044462D312E37207363616E21'")
    assert (audit.intact, audit.position) == (False, 11)
    assert "its file is missing or differs" in audit.finding
    # A reply removed: the log has a gap.
    audit = tampered("DROP TRIGGER replies_refuse_delete",
                     "DELETE FROM replies WHERE their_reference = '4512'")
    assert (audit.intact, audit.position) == (False, 8)
    assert "missing from the log" in audit.finding
    with open_register(database) as register:
        assert register.audit().head == head


def test_the_database_refuses_replies_outside_the_rules(draft: Path,
                                                        register_url: str,  # noqa: F811
                                                        ) -> None:
    """SQLite and PostgreSQL alike: a reply to a cancelled or unknown note,
    at a position not the next, or with a file not stored, is refused by the
    database itself; replies and files are never changed or removed."""
    case = load_case(draft)
    with open_register(register_url) as register:
        first = register.issue(case, FAST, issued_by="officer", now=NOW)[0]
        second = register.issue(case, FAST, issued_by="officer", now=NOW)[0]
        register.cancel(second.reference, reason="twice", cancelled_by="head", now=NOW)
        reply = register.reply(first.reference, received=dt.date(2024, 5, 1),
                               recorded_by="desk", file=b"%PDF-1.4 x", now=NOW)
        assert reply.position == 4
        with pytest.raises(RegisterError, match="cancelled note takes no reply"):
            register.reply(second.reference, received=dt.date(2024, 5, 1), recorded_by="d")
        columns = ("position, series, reference, received, unsatisfactory, recorded_by, "
                   "recorded_at, chain")
        row = "'2024-05-02', 0, 'x', 'x', '" + "0" * 64 + "'"
        hostile = [
            f"INSERT INTO replies ({columns}) VALUES (5, '{second.series}', "
            f"'{second.reference}', {row})",
            f"INSERT INTO replies ({columns}) VALUES (5, '{first.series}', 'SRE/9/2024', {row})",
            f"INSERT INTO replies ({columns}) VALUES (9, '{first.series}', "
            f"'{first.reference}', {row})",
            f"INSERT INTO replies ({columns}, file_sha256) VALUES (5, '{first.series}', "
            f"'{first.reference}', {row}, '{'1' * 64}')",
            f"INSERT INTO reply_files (sha256, size, content) VALUES "
            f"('{reply.file_sha256}', 1, {'%s' if register._postgres else '?'})",
            "UPDATE replies SET summary = 'x'",
            "DELETE FROM replies",
            "DELETE FROM reply_files",
            "UPDATE reply_files SET size = 0",
        ]
        for statement in hostile:
            values = (b"x",) if "reply_files (sha256" in statement else ()
            with pytest.raises(Exception, match=r"append-only"):
                register._connection.execute(statement, values)
        # The history reads alike in both dialects: the cancelled note is left
        # out; the draft itself recalls none of its own day on its subject; a
        # note of 2 May recalls the first with its reply of 1 May.
        assert register.history(case) == []
        later = dataclasses.replace(case, note=case.note.model_copy(
            update={"date": dt.date(2024, 5, 2)}))
        assert [(n.reference, n.replies) for n in register.history(later)] == [
            (first.reference, [RecalledReply(received=dt.date(2024, 5, 1))])]
        # Issuing after a reply takes the next position of the log.
        third = register.issue(case, FAST, issued_by="officer", now=NOW)[0]
        assert third.reference == "SRE/3/2024"
        assert register.replies(first.reference) == [reply]
        audit = register.audit()
        assert (audit.intact, audit.entries) == (True, 5)


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    """The second case (a draft numbered from the Secretariat's profile)."""
    shutil.copytree(SEED.parent.parent / "seeds", tmp_path / "seeds")
    return tmp_path / "seeds" / "mx-quito-2024" / "note.yaml"


def test_a_version_2_register_is_migrated_to_version_3(draft: Path,
                                                       register_url: str,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """A register of schema 2 (notes and a cancellation, chained) opens,
    becomes schema 3 in place, keeps its log and its chain, and takes replies;
    the guards of schema 3 count replies in the log's positions."""
    case = load_case(draft)
    with monkeypatch.context() as patched:
        patched.setattr(module, "_MIGRATIONS", module._MIGRATIONS[:2])
        patched.setattr(module, "_LOG", ("issued", "cancelled"))
        patched.setattr(module.Register, "_history", lambda *_: [])  # no replies table yet
        patched.setattr(module.Register, "_index", lambda *_: None)  # nor a history index
        with open_register(register_url) as old:
            issued = [old.issue(case, FAST, issued_by="officer", now=NOW)[0]
                      for _ in range(2)]
            old.cancel(issued[1].reference, reason="twice", cancelled_by="head", now=NOW)
            with old._transaction("reading") as cursor:
                cursor.execute("SELECT chain FROM cancelled")
                head = cursor.fetchone()[0]
    with open_register(register_url) as register:
        with register._transaction("reading") as cursor:
            cursor.execute("SELECT version FROM notegen_schema ORDER BY version")
            assert [row[0] for row in cursor.fetchall()] == [1, 2, 3, 4]
        audit = register.audit()
        assert (audit.intact, audit.entries, audit.head) == (True, 3, head)
        reply = register.reply(issued[0].reference, received=dt.date(2024, 4, 20),
                               their_reference="77", recorded_by="desk", now=NOW)
        assert reply.position == 4
        with pytest.raises(RegisterError, match="cancelled"):
            register.reply(issued[1].reference, received=dt.date(2024, 4, 20),
                           recorded_by="desk")
        assert register.issue(case, FAST, issued_by="officer", now=NOW)[0].reference == \
            "SRE/3/2024"
        audit = register.audit()
        assert (audit.intact, audit.entries) == (True, 5)
        with pytest.raises(Exception, match="append-only"):
            register._connection.execute("DELETE FROM replies")


def test_a_version_3_register_gets_its_history_index(draft: Path,
                                                    register_url: str,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A register of schema 3 (notes, a cancellation, a reply) opens and
    becomes schema 4: the incidents each note protested are indexed from its
    records, the log and its chain are kept, the history reads the same
    notes by index; the index takes rows only with a new note, is never
    changed, and the audit checks it against the records."""
    case = load_case(draft)
    later = dataclasses.replace(case, note=case.note.model_copy(
        update={"date": dt.date(2024, 5, 2)}))
    subject = case.note.subject
    with monkeypatch.context() as patched:
        patched.setattr(module, "_MIGRATIONS", module._MIGRATIONS[:3])
        patched.setattr(module.Register, "_index", lambda *_: None)  # no index yet
        with open_register(register_url) as old:
            issued = [old.issue(case, FAST, issued_by="officer", now=NOW)[0]
                      for _ in range(3)]
            old.cancel(issued[1].reference, reason="twice", cancelled_by="head", now=NOW)
            old.reply(issued[0].reference, received=dt.date(2024, 5, 1), their_reference="77",
                      recorded_by="desk", now=NOW)
            with old._transaction("reading") as cursor:
                cursor.execute("SELECT chain FROM replies")
                head = cursor.fetchone()[0]
    series = issued[0].series

    def index(register: Register) -> list[tuple[str, str, str]]:
        with register._transaction("reading") as cursor:
            cursor.execute("SELECT series, reference, incident FROM issued_incidents "
                           "ORDER BY reference")
            return [tuple(row) for row in cursor.fetchall()]

    with open_register(register_url) as register:
        with register._transaction("reading") as cursor:
            cursor.execute("SELECT version FROM notegen_schema ORDER BY version")
            assert [row[0] for row in cursor.fetchall()] == [1, 2, 3, 4]
        assert index(register) == [(series, entry.reference, subject) for entry in issued]
        audit = register.audit()
        assert (audit.intact, audit.entries, audit.head) == (True, 5, head)
        # Not the cancelled note; the first with its reply; the draft itself none.
        assert [(n.reference, [r.reference for r in n.replies])
                for n in register.history(later)] == [("SRE/1/2024", ["77"]),
                                                      ("SRE/3/2024", [])]
        assert register.history(case) == []
        fourth = register.issue(case, FAST, issued_by="officer", now=NOW)[0]
        assert index(register)[-1] == (series, fourth.reference, subject)
        assert [n.reference for n in register.history(later)] == ["SRE/1/2024", "SRE/3/2024",
                                                                 "SRE/4/2024"]
        hostile = ["UPDATE issued_incidents SET incident = 'elsewhere'",
                   "DELETE FROM issued_incidents",
                   # An incident added to a note that is not the log's last entry.
                   f"INSERT INTO issued_incidents (series, reference, incident) VALUES "
                   f"('{series}', 'SRE/1/2024', 'kyiv-2025-11-14')"]
        hostile.append("TRUNCATE issued_incidents" if register._postgres else
                       f"REPLACE INTO issued_incidents (series, reference, incident) VALUES "
                       f"('{series}', 'SRE/1/2024', '{subject}')")
        for statement in hostile:
            with pytest.raises(Exception, match="append-only"):
                register._connection.execute(statement)
        assert len(index(register)) == 4
        assert register.audit().intact
        if register._postgres:
            return
        register._connection.execute("DROP TRIGGER issued_incidents_refuse_delete")
        register._connection.execute("DELETE FROM issued_incidents WHERE reference = "
                                     "'SRE/3/2024'")
        register._connection.commit()
        audit = register.audit()
        assert (audit.intact, audit.position) == (False, 3)
        assert "the history index does not hold the incidents its records protest" \
            in audit.finding


# The service.


def test_the_service_records_and_lists_replies(seeded: Seeded, tmp_path: Path) -> None:
    import base64
    import warnings

    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        # Starlette 1.10 would have its test client on httpx2; httpx works still.
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from notegen.config import Settings
    from notegen.service.app import create_app
    from notegen.service.tokens import TokenStore, new_token

    database = tmp_path / "register.db"
    shutil.copyfile(seeded.database, database)
    secrets, tokens = {}, []
    for role in ("issuer", "reader", "drafter"):
        secrets[role], token = new_token(role, [role])
        tokens.append(token)
    app = create_app(Settings(register=str(database)), TokenStore(None, tokens))
    client = TestClient(app)

    def as_(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets[role]}"}

    body = {"received": "2024-02-01", "reference": "4100", "summary": "regrets",
            "file": base64.b64encode(b"%PDF-1.7 scan").decode()}
    assert client.post("/register/12/1/2024/reply", json=body,
                       headers=as_("reader")).status_code == 403
    response = client.post("/register/12/1/2024/reply", json=body, headers=as_("issuer"))
    assert response.status_code == 200, response.text
    assert (response.json()["their_reference"], response.json()["recorded_by"]) == (
        "4100", "issuer")
    listed = client.get("/register/12/1/2024/replies", headers=as_("reader"))
    assert listed.status_code == 200
    assert [reply["their_reference"] for reply in listed.json()] == ["4100"]
    assert client.get("/register/12/1/2024/replies", headers=as_("drafter")).status_code \
        == 403
    assert client.post("/register/12/3/2025/reply", json=body,
                       headers=as_("issuer")).status_code == 409
    assert client.post("/register/12/9/2025/reply", json=body,
                       headers=as_("issuer")).status_code == 404
    early = client.post("/register/12/1/2024/reply", json={"received": "2023-01-01"},
                        headers=as_("issuer"))
    assert early.status_code == 422
    assert "before the note's date" in early.json()["error"]
    # The note itself is still found at its own address.
    assert client.get("/register/12/1/2024", headers=as_("reader")).json()["reference"] \
        == "12/1/2024"
