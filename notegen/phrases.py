"""Phrase catalogues: every fixed wording of a note, per language.

A catalogue is a YAML file ``catalogues/<lang>.yaml`` in a template folder. It
names the Babel locale used for dates, lists and numbers, and holds the
phrases keyed by name. Placeholders are ``{name}``; nothing else in braces is
interpreted, so a catalogue cannot reach into Python objects.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import TemplateError

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str
    locale: str
    date_pattern: str = "long"
    phrases: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    """The phrases of one language, and how it writes dates and lists."""

    lang: str
    language: str
    locale: Locale
    date_pattern: str
    phrases: Mapping[str, str]
    path: Path

    def phrase(self, key: str, **values: object) -> str:
        """The phrase ``key`` with its ``{placeholders}`` filled from ``values``.

        :raises TemplateError: if the catalogue lacks the phrase or a value.
        """
        try:
            text = self.phrases[key]
        except KeyError:
            raise TemplateError(f"the {self.language} catalogue has no phrase {key!r}",
                                template=str(self.path)) from None

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise TemplateError(f"phrase {key!r} uses {{{name}}}, which is not given here",
                                    template=str(self.path))
            return str(values[name])

        return _PLACEHOLDER.sub(fill, text)

    def date(self, value: dt.date) -> str:
        """``value`` in words, e.g. "14 November 2025"."""
        return format_date(value, self.date_pattern, locale=self.locale)

    def join(self, items: Sequence[str]) -> str:
        """``items`` as a list in running text: "a, b and c"."""
        return format_list(list(items), locale=self.locale) if items else ""

    def sentence(self, text: str) -> str:
        """``text`` with its first letter capitalised as the language does it."""
        return capitalize_first(text, self.locale.language)


def capitalize_first(text: str, lang: str) -> str:
    """``text`` with only its first letter made upper case, the way ``lang`` does
    it (Azerbaijani and Turkish dotted i becomes İ)."""
    if not text:
        return text
    first = text[0]
    if first == "i" and lang.split("_")[0] in ("az", "tr"):
        return "İ" + text[1:]
    return first.upper() + text[1:]


def available_languages(folders: Sequence[Path]) -> list[str]:
    """The languages that some folder of ``folders`` has a catalogue for."""
    return sorted({path.stem for folder in folders
                   for path in (folder / "catalogues").glob("*.yaml")})


def load_catalogue(lang: str, folders: Sequence[Path]) -> Catalogue | None:
    """Read ``catalogues/<lang>.yaml`` from the first of ``folders`` that has it,
    or return ``None`` if none has.

    :raises TemplateError: if the catalogue found is invalid.
    """
    # The language becomes part of a file name: accept language codes only.
    if re.fullmatch(r"[a-z]{2,3}(_[A-Z][a-z]{3})?", lang):
        for folder in folders:
            path = folder / "catalogues" / f"{lang}.yaml"
            if path.is_file():
                return _read_catalogue(lang, path, path.stat().st_mtime_ns)
    return None


@functools.lru_cache(maxsize=32)
def _read_catalogue(lang: str, path: Path, mtime_ns: int) -> Catalogue:
    # Cached per file version: reading and validating the YAML was most of a
    # warm HTML render, and an edited catalogue (new mtime) is read again.
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _CatalogueFile.model_validate(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TemplateError(f"invalid YAML: {getattr(exc, 'problem', exc)}", template=str(path),
                            line=mark.line + 1 if mark else None) from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(map(str, first["loc"]))
        raise TemplateError(f"{field}: {first['msg']}", template=str(path)) from None
    try:
        locale = Locale.parse(parsed.locale)
    except (UnknownLocaleError, ValueError):
        raise TemplateError(f"unknown Babel locale {parsed.locale!r}",
                            template=str(path)) from None
    return Catalogue(lang=lang, language=parsed.language, locale=locale,
                     date_pattern=parsed.date_pattern, phrases=parsed.phrases, path=path)
