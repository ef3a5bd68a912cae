from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml
from fontTools.ttLib import TTFont

from notegen import RecordError, TemplateError, TemplateFolders
from notegen.template_folders import BUILTIN_FOLDER, builtin
from notegen.wording.catalogue import NBSP, Name, load_catalogue
from notegen.wording.legal import load_legal

from .conftest import ROOT

LANGUAGES = ["az", "en", "fr", "ru"]
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.[a-z]+)?\}")


def catalogue(lang: str):
    found = load_catalogue(lang, builtin())
    assert found is not None
    return found


def test_the_four_languages_are_built_in() -> None:
    assert builtin().languages() == LANGUAGES


@pytest.mark.parametrize("lang", ["az", "fr", "ru"])
def test_every_catalogue_has_every_phrase_of_the_english_one(lang: str) -> None:
    english = catalogue("en").phrases
    other = catalogue(lang).phrases
    # Beyond English's: a day's own word (date.day.1), counts (count.killed.few)
    # and plural variants of a phrase for a count or a series (….other).
    own = {key for key in other
           if re.fullmatch(r"date\.day\.\d+|count\..+|.+\.(zero|one|two|few|many|other|=\d+)",
                           key)}
    assert set(other) - {"date.words"} - own == set(english)
    for key, text in english.items():
        # The same values are used; a language may leave some out (the
        # Azerbaijani protest needs no "to").
        # Azerbaijani marks a number with "saylı", so takes it without its sign.
        assert set(PLACEHOLDER.findall(other[key])) <= set(PLACEHOLDER.findall(text)) | {
            "salutation", "number"}, key


def test_variants_by_note_type_win() -> None:
    english = catalogue("en")
    assert english.with_phrases({}, variant="aide_memoire").phrase("title") == "Aide-Mémoire"
    assert english.with_phrases({}, variant="note_verbale").phrase("title") == "Note Verbale"
    assert english.with_phrases({"note_verbale.title": "Note"},
                                variant="note_verbale").phrase("title") == "Note"


def test_a_grammatical_case_comes_from_the_name_or_is_asked_for() -> None:
    russian = catalogue("ru").with_phrases({}, variant="note_verbale")
    embassy = Name("Посольство", {"dat": "Посольству"}, "short_name")
    assert russian.phrase("addressee.block", addressee=Name("X", {"dat": "Y"})) == "Y"
    assert "Посольству" in russian.phrase("closing", sender_short="Министерство",
                                          addressee_short=embassy)
    with pytest.raises(RecordError, match="needs the 'gen' form of 'Посольство'"):
        russian.phrase("narrative", sender_short="Министерство", addressee_short=embassy,
                       date="", time="", account="")


def test_placeholders_reach_no_attributes() -> None:
    english = catalogue("en").with_phrases({"seal.seal": "{sender.__class__} {sender.upper}"})
    with pytest.raises(RecordError, match="needs the 'upper' form"):
        english.phrase("seal.seal", sender=Name("The Ministry"))


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def test_the_fonts_draw_every_letter_of_the_wording_and_the_seeds() -> None:
    files = [*(BUILTIN_FOLDER / "catalogues").glob("*.yaml"),
             BUILTIN_FOLDER / "legal" / "bases.yaml", *(ROOT / "seeds").rglob("*.yaml")]
    used = {char for path in files
            for text in _texts(yaml.safe_load(path.read_text(encoding="utf-8")))
            for char in text if not char.isspace() or char == "\u00a0"}
    # Titles and letterheads are set in capitals by the style sheet.
    used |= {char.upper() for char in used if len(char.upper()) == 1}
    assert {"ə", "Ə", "ğ", "ı", "İ", "ş", "ç", "ö", "ü", "ж", "ё", "é", "è", "«"} <= used
    for face in Path(BUILTIN_FOLDER / "static" / "fonts").glob("*.ttf"):
        cmap = TTFont(face).getBestCmap()
        missing = sorted(char for char in used if ord(char) not in cmap)
        assert not missing, (face.name, missing)


def test_every_problem_of_a_catalogue_is_located(tmp_path: Path) -> None:
    """Like record problems: every one, with file, line and field, not only
    the first pydantic error."""
    folder = tmp_path / "templates" / "catalogues"
    folder.mkdir(parents=True)
    catalogue = folder / "fr.yaml"
    catalogue.write_text("language: French\nlocale: fr\nphrases:\n  title: 12\n"
                         "  closing: [a, b]\nfirst_persn: [je]\n", encoding="utf-8")
    with pytest.raises(TemplateError) as info:
        load_catalogue("fr", TemplateFolders.of([tmp_path / "templates"]))
    located = [(p.location.line, p.location.field) for p in info.value.problems]
    assert located == [(4, "phrases.title"), (5, "phrases.closing"), (6, "first_persn")]
    assert all(p.location.file == catalogue.resolve() for p in info.value.problems)
    assert "unknown field" in info.value.problems[2].message


def test_every_problem_of_the_legal_wording_is_located(tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "legal"
    folder.mkdir(parents=True)
    (folder / "es.yaml").write_text(
        "articles:\n  vcdr.22.1:\n    label: Artículo 22(1)\n    txt: x\n"
        "instruments:\n  vcdr: {title: Convención}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as info:
        load_legal(TemplateFolders.of([tmp_path / "templates"]))
    located = sorted((p.location.line, p.location.field) for p in info.value.problems)
    assert located == [(2, "articles.vcdr.22.1.text"), (4, "articles.vcdr.22.1.txt"),
                       (6, "instruments.vcdr.of")]


@pytest.mark.parametrize("pattern", ["{{{{''", "xx", "'unterminated", "d MMMM", "MMMM y"])
def test_a_date_pattern_that_cannot_write_a_date_is_a_located_error(
        tmp_path: Path, pattern: str) -> None:
    """A ministry's catalogue with a broken pattern would print the same
    nonsense for every date; it is refused, at its field."""
    folder = tmp_path / "templates" / "catalogues"
    folder.mkdir(parents=True)
    (folder / "fr.yaml").write_text(f"date_pattern: {json.dumps(pattern)}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="cannot write a date") as info:
        load_catalogue("fr", TemplateFolders.of([tmp_path / "templates"]))
    [problem] = info.value.problems
    assert problem.location.field == "date_pattern"
    assert problem.location.file == (folder / "fr.yaml").resolve()


@pytest.mark.parametrize(("pattern", "words"), [
    ("d 'de' MMMM 'de' y", "14 de novembre de 2025"),  # quoted words are kept
    ("dd.MM.y", "14.11.2025"),
    ("long", "14 novembre 2025"),
])
def test_date_patterns_that_write_a_date(tmp_path: Path, pattern: str, words: str) -> None:
    folder = tmp_path / "templates" / "catalogues"
    folder.mkdir(parents=True)
    (folder / "fr.yaml").write_text(f"date_pattern: {json.dumps(pattern)}\n", encoding="utf-8")
    catalogue = load_catalogue("fr", TemplateFolders.of([tmp_path / "templates"]))
    assert catalogue is not None
    assert catalogue.date(dt.date(2025, 11, 14)).replace(NBSP, " ") == words
