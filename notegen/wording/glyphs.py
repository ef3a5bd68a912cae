"""Every character a note prints must be one its fonts can draw.

The render stops at a character no font has (an empty box in a note sent to
another State is worse than no note), but by then it can no longer say where
the character was written. This check runs with the other checks of the
records, before anything is rendered: each text of the records the note uses,
in the note's language, against the characters of the fonts in the template
folders' ``static/fonts/`` (read with fontTools, once per font file).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..records.case import Case
from ..records.dump import dump_case
from ..template_folders import FONTS_FOLDER, LANGUAGE_CODE, TemplateFolders

#: The font files whose characters count.
_FONT_SUFFIXES = (".ttf", ".otf")

#: Record sections whose entries carry an id; the note and the profile are one each.
_LISTS = ("states", "parties", "facilities", "incidents")


def undrawable(case: Case, lang: str, folders: TemplateFolders) -> list[Problem]:
    """A located problem for each text of ``case`` (in ``lang``) holding a
    character none of the fonts of ``folders`` can draw."""
    drawable = _characters(folders)
    if not drawable:
        return []  # no font files to judge by (fontconfig's choice): the render will tell
    records = json.loads(dump_case(case))
    problems: list[Problem] = []
    for record_id, path, text in _texts(records, lang):
        missing = list(dict.fromkeys(char for char in text if not char.isspace()
                                     and ord(char) not in drawable))
        if missing:
            named = ", ".join(f"{char!r} (U+{ord(char):04X} "
                              f"{unicodedata.name(char, 'unnamed')})" for char in missing)
            problems.append(Problem(
                f"the templates' fonts cannot draw {named}: replace it, or give the "
                f"templates a font that has it ({FONTS_FOLDER}/)",
                case.locate(record_id, *path)))
    return problems


def _texts(records: dict[str, Any], lang: str
           ) -> Iterator[tuple[str | None, tuple[str | int, ...], str]]:
    """Each text of ``records`` a note in ``lang`` prints: (record id, field
    path inside the record, text)."""
    for section in _LISTS:
        for item in records.get(section, []):
            yield from ((item["id"], path, text) for path, text in _walk(item, (), lang))
    if "profile" in records:
        profile = records["profile"]
        yield from ((profile["id"], path, text) for path, text in _walk(profile, (), lang))
    yield from ((None, path, text) for path, text in _walk(records["note"], (), lang))


def _walk(value: Any, path: tuple[str | int, ...], lang: str
          ) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index), lang)
    elif isinstance(value, dict):
        if value and all(isinstance(key, str) and LANGUAGE_CODE.fullmatch(key)
                         for key in value):  # a text per language: only the note's
            if lang in value:
                yield from _walk(value[lang], (*path, lang), lang)
            return
        for key, item in value.items():
            yield from _walk(item, (*path, key), lang)


def _characters(folders: TemplateFolders) -> frozenset[int]:
    """The code points some font file of ``folders`` has a glyph for."""
    files = sorted({found for suffix in _FONT_SUFFIXES
                    for name in folders.names(FONTS_FOLDER, suffix)
                    for found in [folders.find(f"{FONTS_FOLDER}/{name}{suffix}")]
                    if found is not None})
    return _union(tuple((path, path.stat().st_mtime_ns) for path in files))


@functools.lru_cache(maxsize=8)
def _union(files: tuple[tuple[Path, int], ...]) -> frozenset[int]:
    """The characters of ``files`` (each with its version): merged once per
    set of font versions, not on every note checked."""
    return frozenset().union(*(_cmap(path, mtime_ns) for path, mtime_ns in files))


@functools.lru_cache(maxsize=32)
def _cmap(path: Path, mtime_ns: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError  # only when a note is checked

    try:
        with TTFont(path, lazy=True) as font:
            # Only the code points count: numbered glyphs spare decoding the
            # glyph names (the post table), half the time of reading a font.
            font.setGlyphOrder([f"glyph{index}" for index in range(font["maxp"].numGlyphs)])
            return frozenset(font.getBestCmap() or {})
    except (TTLibError, OSError, KeyError, AssertionError):
        return frozenset()  # a broken font is the render's to report, with its name
