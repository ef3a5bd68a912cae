"""New cases, sender profiles and ministry folders, to start from instead of
copying a seed (``notegen new``).

The files come from Jinja templates beside this module (``scaffolds/``), with
every value written as YAML through :func:`json.dumps` (JSON is YAML); the
kinds the comments offer come from the records' own enumerations, and the
grammatical forms each language needs from its wording
(:func:`~notegen.wording.needs.language_needs`, what ``validate`` would ask). Every
text to replace is in ``[brackets]``: a scaffold validates and renders as it
is, so the officer sees the note take shape from the first save.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from ..errors import NotegenError
from ..records.models import DemandKind, Effect, MeansKind, NoteType, SealPolicy
from ..template_folders import BUILTIN_FOLDER, TemplateFolders, builtin
from ..wording.needs import language_needs
from .atomic import write_atomic
from .authoring import STYLE_FILES, eject

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent / "scaffolds"
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE),
                                undefined=jinja2.StrictUndefined, autoescape=False,
                                trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True)
_TEMPLATES.filters["yaml"] = lambda value: json.dumps(value, ensure_ascii=False)
#: Where the records' JSON Schema is shipped, for the editor's modeline.
SCHEMA = Path(__file__).parent.parent / "records" / "record.schema.json"


@dataclass(frozen=True)
class CaseSpec:
    """What a new case is about; everything else is a placeholder."""

    #: The State that sends the note, and the State it holds responsible
    #: (whose Embassy receives it), as ids such as ``az`` and ``ru``.
    sender_state: str
    addressee_state: str
    #: The subject incident: its date, its place (in ``lang``), and the
    #: State where it happened (default: the responsible State).
    date: dt.date
    place: str
    country: str | None = None
    lang: str = "en"
    note_type: NoteType = NoteType.note_verbale
    #: An existing sender profile file; none: a new one is written beside the case.
    profile: Path | None = None
    #: The template folders whose catalogues word the note (for its forms).
    folders: TemplateFolders = field(default_factory=builtin)


def new_case(folder: Path, spec: CaseSpec, *, overwrite: bool = False) -> list[Path]:
    """Write a new case into ``folder``: ``note.yaml``, and ``profile.yaml``
    unless ``spec.profile`` names one. Returns the files written.

    :raises NotegenError: if a file exists (and not ``overwrite``), or an id
        is not one.
    """
    try:
        spec.place.encode("utf-8")
    except UnicodeEncodeError:
        raise NotegenError(f"the place {spec.place!r} is not text (check the terminal's "
                           "encoding)") from None
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in spec.place):
        raise NotegenError(f"the place {spec.place!r} holds a control or invisible "
                           "character")
    for name, value in (("sending State", spec.sender_state),
                        ("responsible State", spec.addressee_state),
                        ("country", spec.country or spec.addressee_state)):
        if not re.fullmatch(r"[a-z][a-z0-9-]*", value):
            raise NotegenError(f"the {name} must be an id such as az or ru (lower-case "
                               f"letters, digits, -), not {value!r}")
    folder = folder.absolute()
    written: dict[Path, str] = {}
    profile_id = f"{spec.sender_state}-mfa"
    forms = _forms(spec.lang, spec.folders)
    if spec.profile is None:
        profile = folder / "profile.yaml"
        written[profile] = _profile_text(profile_id, spec.sender_state, spec.lang, forms)
    else:
        profile = spec.profile.absolute()
        profile_id = _profile_id(profile)
    country = spec.country or spec.addressee_state
    note = folder / "note.yaml"
    written[note] = _TEMPLATES.get_template("case.yaml.j2").render(
        schema=_schema_path(), profile=_relative(profile, folder), sender=profile_id,
        sender_state=spec.sender_state, addressee_state=spec.addressee_state, country=country,
        addressee=f"{spec.addressee_state}-embassy",
        facility=f"{spec.sender_state}-embassy-{country}",
        incident=f"{_slug(spec.place)}-{spec.date.isoformat()}", lang=spec.lang,
        note_type=spec.note_type.value, date=spec.date.isoformat(), place=spec.place,
        forms=forms, effects=[e.value for e in Effect],
        means=[m.value for m in MeansKind], demands=[d.value for d in DemandKind])
    return _write(written, overwrite)


def new_profile(path: Path, *, profile_id: str, state: str, lang: str = "en",
                overwrite: bool = False) -> list[Path]:
    """Write a new sender profile to ``path``.

    :raises NotegenError: if the file exists (and not ``overwrite``).
    """
    return _write({path.absolute(): _profile_text(profile_id, state, lang,
                                                  _forms(lang, builtin()))}, overwrite)


def new_ministry(folder: Path, *, lang: str | None = None, template: str = "note_verbale",
                 overwrite: bool = False) -> list[Path]:
    """Make ``folder`` a ministry's own: ``notegen.toml`` naming its template
    folder ``templates/``, the built-in ``template`` ejected into it (with the
    style sheets), and, for a ``lang`` notegen has no catalogue for, a
    catalogue to translate (a copy of the English one).

    :raises NotegenError: if a file exists (and not ``overwrite``).
    """
    folder = folder.absolute()
    texts = {folder / "notegen.toml": _TEMPLATES.get_template("notegen.toml.j2").render()}
    ejected = [folder / "templates" / f"{template}.html.j2",
               *(folder / "templates" / name for name in STYLE_FILES)]
    if lang is not None:
        if not re.fullmatch(r"[a-z]{2,3}", lang):
            raise NotegenError(f"{lang!r} is not a language code such as de or es")
        if (BUILTIN_FOLDER / "catalogues" / f"{lang}.yaml").exists():
            raise NotegenError(f"notegen already speaks {lang}: override single phrases in "
                               f"templates/catalogues/{lang}.yaml instead of a whole catalogue")
        english = (BUILTIN_FOLDER / "catalogues" / "en.yaml").read_text(encoding="utf-8")
        texts[folder / "templates" / "catalogues" / f"{lang}.yaml"] = (
            _TEMPLATES.get_template("catalogue-header.j2").render(lang=lang) + english)
    # Every file checked before any is written: a refusal leaves nothing behind.
    _refuse_existing([*texts, *ejected], overwrite)
    written = _write(texts, overwrite)
    written += eject(template, folder / "templates", overwrite=overwrite)
    return written


#: Where the wording's needs are given in a scaffold, by the record of the
#: probe case :func:`~notegen.wording.needs.language_needs` names.
_SLOTS = {"profile": "profile", "profile.head": "profile_head", "states[0]": "sender_state",
          "states[1]": "addressee_state", "parties[0]": "embassy", "parties[0].head": "head"}


class _Forms(dict[str, list[str]]):
    """The forms a language needs, by slot of the scaffold; none where it needs none."""

    def __getattr__(self, name: str) -> list[str]:
        return self.get(name, [])


def _forms(lang: str, folders: TemplateFolders) -> _Forms:
    """The forms the wording of ``lang`` asks of each record (genders, which
    the scaffolds always give, aside)."""
    forms = _Forms()
    for need in language_needs(lang, folders):
        if need.key != "gender":
            forms.setdefault(_SLOTS[need.record], []).append(need.key)
    return forms


def _profile_text(profile_id: str, state: str, lang: str, forms: _Forms) -> str:
    return _TEMPLATES.get_template("profile.yaml.j2").render(
        schema=_schema_path(), id=profile_id, state=state, lang=lang, forms=forms,
        seals=[s.value for s in SealPolicy])


def _profile_id(path: Path) -> str:
    """The id of the sender profile in the file ``path``."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return str(data["profile"]["id"])
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise NotegenError(f"{path} is not a sender profile (profile: with an id): "
                           f"{exc}") from None


def _schema_path() -> str | None:
    return SCHEMA.as_uri() if SCHEMA.exists() else None


def _relative(path: Path, folder: Path) -> str:
    """``path`` as an include of a file in ``folder``."""
    return Path(os.path.relpath(path, folder)).as_posix()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "incident"


def _refuse_existing(paths: list[Path], overwrite: bool) -> None:
    existing = [path for path in paths if path.exists()]
    if existing and not overwrite:
        raise NotegenError(f"{', '.join(map(str, existing))} already exist; keep them, or "
                           "write over them with --force")


def _write(texts: dict[Path, str], overwrite: bool) -> list[Path]:
    _refuse_existing(list(texts), overwrite)
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"))
        logger.info("wrote %s", path)
    return list(texts)
