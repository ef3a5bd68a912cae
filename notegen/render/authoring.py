"""What a ministry uses to make the templates its own: the list of built-in
templates, a copy of one to start from, and a check of a template folder
before it is used for a real note.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import nodes

from ..errors import Location, NotegenError, Problem, RecordError, TemplateError
from ..options import Document, RenderOptions
from ..records.case import Case, load_case
from ..records.models import NoteType
from ..records.reading import read_data_file, read_file
from ..template_folders import (
    BUILTIN_FOLDER,
    SEEDS_FOLDER,
    TemplateFolders,
    builtin,
    unreadable,
)
from ..wording.catalogue import load_catalogue
from ..wording.legal import (
    CATALOGUE,
    LEGAL_FOLDER,
    PARTICIPATION,
    LegalLanguage,
    load_legal,
    read_participation,
)
from .html import make_environment, render_html

logger = logging.getLogger(__name__)

#: Built-in files an ejected template needs beside it to be restyled.
STYLE_FILES = ("static/note.css", "static/single-page.css")


@dataclass(frozen=True)
class BuiltinTemplate:
    """A built-in template a ministry can override or eject."""

    #: What ``templates eject`` calls it: the file name without ``.html.j2``.
    name: str
    path: Path
    #: The first line of its leading comment.
    purpose: str


def builtin_templates() -> list[BuiltinTemplate]:
    """The built-in templates, ``base`` first."""
    found = []
    for path in sorted(BUILTIN_FOLDER.glob("*.html.j2"), key=lambda p: (p.name != "base.html.j2",
                                                                         p.name)):
        comment = re.match(r"\{#-?\s*(.*?)(?:\n|-?#\})", path.read_text(encoding="utf-8"))
        found.append(BuiltinTemplate(path.name.removesuffix(".html.j2"), path,
                                     comment.group(1).strip() if comment else ""))
    return found


def eject(name: str, folder: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the built-in template ``name`` and the style sheets into ``folder``.

    :raises NotegenError: if ``name`` is not a built-in template, or a file
        would be overwritten without ``overwrite``.
    """
    templates = {template.name: template for template in builtin_templates()}
    if name not in templates:  # never a path taken from the user
        raise NotegenError(f"no built-in template {name!r}; there are "
                           f"{', '.join(templates)}")
    copies = {templates[name].path: folder / templates[name].path.name}
    copies.update({BUILTIN_FOLDER / file: folder / file for file in STYLE_FILES})
    existing = [target for target in copies.values() if target.exists()]
    if existing and not overwrite:
        raise NotegenError(f"{', '.join(map(str, existing))} already exist; keep them, or "
                           "copy over them with --force")
    for source, target in copies.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return list(copies.values())


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_folder` found."""

    problems: tuple[Problem, ...]
    templates: int
    catalogues: int
    renders: int
    #: The languages rendered, each with how many documents ("es": 5).
    languages: tuple[tuple[str, int], ...] = ()


def check_folder(folder: Path, cases: Sequence[Path] = ()) -> CheckReport:
    """Check the template folder ``folder``: every template compiles and
    overrides only blocks that exist; every catalogue and legal wording has
    known keys and, for a new language, all of them; and every note type
    renders each case (default: the worked cases) in each language the case
    has text for.
    """
    folder = folder.resolve()
    options = RenderOptions(template_dirs=(folder,))
    # Links out of the folder, and special files, are never read (not even
    # here): they are reported, and the files checked are the others.
    refused = dict(unreadable(folder))
    problems = [Problem(f"notegen will not read this: {why}", Location(path))
                for path, why in refused.items()]

    def readable(paths: Iterator[Path]) -> list[Path]:
        return sorted(path for path in paths
                      if path not in refused and not any(parent in refused
                                                         for parent in path.parents))

    templates = readable(folder.rglob("*.j2"))
    for path in templates:
        problems.extend(_check_template(path, folder, options))
    catalogues = readable((folder / "catalogues").glob("*.yaml"))
    for path in catalogues:
        problems.extend(_check_catalogue(path))
    for path in readable((folder / LEGAL_FOLDER).glob("*.yaml")):
        if path == folder / PARTICIPATION:  # who is party to which treaty
            try:
                read_participation(path)
            except TemplateError as exc:
                problems.extend(_problems(exc, path))
        elif path != folder / CATALOGUE:
            problems.extend(_check_legal_language(path))
    renders = 0
    rendered: dict[str, int] = {}
    # The languages the folder adds: each must be rendered, or the check has
    # said nothing about it.
    added = [path for path in catalogues if builtin().find(f"catalogues/{path.name}") is None]
    if not problems:  # a broken file would fail every render the same way
        for case_file in cases or sorted(SEEDS_FOLDER.glob("*/note.yaml")):
            case = load_case(case_file)
            for lang in _languages(case, folder):
                for variant in (*NoteType, Document.talking_points, Document.press_release):
                    renders += 1
                    found, done = _check_render(case, options, lang, variant)
                    problems.extend(found)
                    if done:
                        rendered[lang] = rendered.get(lang, 0) + 1
        for path in added:
            if path.stem not in rendered:
                problems.append(Problem(
                    f"no case has text in {path.stem!r}, so no note was rendered in it: "
                    f"give a case written in {path.stem!r} (templates check FOLDER CASE)",
                    Location(path)))
    unique = tuple(dict.fromkeys(problems))
    return CheckReport(unique, len(templates), len(catalogues), renders,
                       tuple(sorted(rendered.items())))


def _check_template(path: Path, folder: Path, options: RenderOptions) -> Iterator[Problem]:
    environment = make_environment(options.folders)
    name = path.relative_to(folder).as_posix()
    source = path.read_text(encoding="utf-8")
    try:
        tree = environment.parse(source, name, str(path))
    except jinja2.TemplateSyntaxError as exc:
        yield Problem(exc.message or str(exc), Location(path, exc.lineno))
        return
    parent = next(tree.find_all(nodes.Extends), None)
    if parent is None or not isinstance(parent.template, nodes.Const):
        return
    known = _blocks(environment, str(parent.template.value))
    for block in tree.find_all(nodes.Block):
        if block.name not in known:
            yield Problem(f"block {block.name!r} is not a block of {parent.template.value} "
                          f"(it has {', '.join(sorted(known))}), so it would never be shown",
                          Location(path, block.lineno))


def _blocks(environment: jinja2.Environment, name: str) -> set[str]:
    """Every block ``name`` and the templates it extends define."""
    found: set[str] = set()
    seen: set[str] = set()
    while name not in seen:
        seen.add(name)
        try:
            source = environment.loader.get_source(environment, name)[0]  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            break
        tree = environment.parse(source)
        found.update(block.name for block in tree.find_all(nodes.Block))
        parent = next(tree.find_all(nodes.Extends), None)
        if parent is None or not isinstance(parent.template, nodes.Const):
            break
        name = str(parent.template.value)
    return found


def _check_catalogue(path: Path) -> Iterator[Problem]:
    try:
        source = read_file(path)
    except RecordError as exc:
        yield from exc.problems
        return
    reference = load_catalogue("en", builtin())
    assert reference is not None  # the built-in folder has it
    known = set(reference.phrases) | {"date.words"}
    phrases = source.data.get("phrases", {}) if isinstance(source.data, dict) else {}
    for key in phrases:
        if not _known_phrase(key, known):
            yield Problem(f"{key!r} is not a phrase notegen uses (check its spelling)",
                          source.locate(("phrases", key)))
    new_language = builtin().find(f"catalogues/{path.name}") is None
    if new_language:  # a new language must say everything
        missing = sorted(known - set(phrases) - {"date.words"})
        if missing:
            yield Problem(f"a new language needs every phrase; missing: {', '.join(missing)}",
                          source.locate(("phrases",)))
    try:
        load_catalogue(path.stem, TemplateFolders.of([path.parent.parent]))
    except TemplateError as exc:
        yield from _problems(exc, path)


#: Keys a catalogue may have beyond the reference's: a day's own word
#: (``date.day.1``) and counts (``count.killed``), each with plural variants.
_OPTIONAL_PHRASE = re.compile(r"date\.day\.\d{1,2}|count\.[a-z_]+")
_PLURAL_VARIANT = re.compile(r"\.(?:zero|one|two|few|many|other|=\d+)$")


def _known_phrase(key: str, known: set[str]) -> bool:
    """Whether notegen uses the phrase ``key``: a reference key, perhaps for one
    note type (``aide_memoire.title``) or in a plural variant (``….other``)."""
    for candidate in (key, _PLURAL_VARIANT.sub("", key)):
        for name in (candidate, candidate.partition(".")[2]):
            if name in known or _OPTIONAL_PHRASE.fullmatch(name):
                return True
    return False


def _check_legal_language(path: Path) -> Iterator[Problem]:
    try:
        words = read_data_file(path, LegalLanguage)
    except TemplateError as exc:
        yield from _problems(exc, path)
        return
    legal = load_legal(builtin())
    # The languages the built-in catalogue words every article in.
    worded = set.intersection(*(set(article.label) for article in legal.articles.values()))
    for table, given in (("instruments", words.instruments), ("articles", words.articles)):
        unknown = sorted(set(given) - set(getattr(legal, table)))
        if unknown:
            yield Problem(f"unknown {table}: {', '.join(unknown)}", Location(path))
        if path.stem not in worded:
            missing = sorted(set(getattr(legal, table)) - set(given))
            if missing:
                yield Problem(f"a new language needs the wording of all {table}; missing: "
                              f"{', '.join(missing)}", Location(path))


def _languages(case: Case, folder: Path) -> list[str]:
    """The languages of ``folder``'s catalogues (or the built-in ones) that the
    records of ``case`` are written in."""
    candidates = TemplateFolders.of([folder]).languages()
    protest = case.note.protest
    return [lang for lang in candidates if isinstance(protest, str) or lang in protest]


def _check_render(case: Case, options: RenderOptions, lang: str,
                  variant: NoteType | Document) -> tuple[list[Problem], bool]:
    """The problems of rendering ``case`` as ``variant`` in ``lang``, and
    whether it rendered. What the worked cases lack (text in a language) is
    not the folder's problem: it is logged, and the render does not count."""
    document = variant if isinstance(variant, Document) else Document.note
    note_type = variant if isinstance(variant, NoteType) else None
    problems: list[Problem] = []
    try:
        render_html(case, RenderOptions(template_dirs=options.template_dirs, lang=lang,
                                        note_type=note_type, document=document))
    except TemplateError as exc:
        path = Path(exc.template) if exc.template else None
        problems.append(Problem(f"{exc.message} (rendering a "
                                f"{variant.value.replace('_', ' ')})", Location(path, exc.line)))
    except RecordError as exc:
        for problem in exc.problems:
            if problem.location.file is None or not problem.location.file.is_relative_to(
                    SEEDS_FOLDER):
                problems.append(problem)
            else:
                logger.info("%s: %s", lang, problem)
        return problems, False
    return problems, not problems


def _problems(error: TemplateError, path: Path) -> Iterator[Problem]:
    """The located problems of ``error``, raised reading ``path``."""
    if error.problems:
        yield from error.problems
    else:
        yield Problem(error.message, Location(path, error.line))
