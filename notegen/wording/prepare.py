"""Wording a note: everything between validated records and a template.

:func:`prepare` loads the phrases of the note's language with the sender's
house formulae over them, chooses and checks the legal bases, builds the
note's context (:mod:`.context`) and that of a companion document
(:mod:`.companions`), and lints the note's form (:mod:`.lint`). A render
prepares once; :func:`~notegen.validate` stops here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import Location, Problem, RecordError
from ..options import Document, RenderOptions, settle
from ..records import collector
from ..records.case import Case
from ..records.models import NoteType, Profile
from .catalogue import Catalogue, load_catalogue
from .companions import Companion, build_companion
from .context import NoteContext, build_context, language_name
from .glyphs import undrawable
from .legal import check, cited, load_legal
from .lint import lint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A note ready for its template: its context and phrases, and the
    warnings found on the way."""

    context: NoteContext
    catalogue: Catalogue
    #: Problems that do not stop a render (legal bases that may misapply).
    warnings: tuple[Problem, ...]
    #: The companion document's own context, if one is rendered.
    companion: Companion | None = None


def prepare(case: Case, options: RenderOptions | None = None, *,
            quiet: bool = False) -> Prepared:
    """Word the note of ``case``: load the phrases of its language with the
    sender's house formulae, choose and check its legal bases, build its
    context and lint its form. The warnings are logged (at DEBUG only if
    ``quiet``: a caller that shows them itself, on every keystroke).

    :raises RecordError: for problems in the records, and for warnings too
        when ``options.strict`` is set.
    :raises TemplateError: for a broken catalogue.
    """
    with collector.paused():  # linear in the records: see notegen.records.collector
        return _prepare(case, options, quiet)


def _prepare(case: Case, options: RenderOptions | None, quiet: bool = False) -> Prepared:
    options = settle(case, options)
    # A language the note names is located in the note; one chosen for this
    # render has no place in the records.
    location = (case.locate(None, "language") if options.lang == case.note.language
                else Location())
    note_type = options.note_type or case.note.type
    catalogue = _catalogue(case, options.lang or case.note.language, options, note_type,
                           location)
    legal = load_legal(options.folders)
    citations = cited(case, legal)
    # The records' own (a chronology that leaves out incidents of the catalogue) first.
    warnings = [*case.notices, *check(case, citations)]
    enclosures: tuple[str, ...] = ()
    if options.translation:
        where = (case.locate(None, "translation")
                 if options.translation == case.note.translation else Location())
        other = _other_language(options.translation, options, where, "courtesy translation")
        enclosures = (catalogue.phrase("enclosure.translation",
                                       language=language_name(other, catalogue)),)
    mark = ""
    if options.translation_of:
        other = _other_language(options.translation_of, options, Location(), "original")
        mark = catalogue.phrase("translation.mark", language=language_name(other, catalogue))
    context = build_context(case, catalogue, citations, note_type, enclosures, mark)
    problems = lint(case, catalogue, context, note_type)
    problems.extend(undrawable(case, catalogue.lang, options.folders))
    if options.strict:
        problems.extend(warnings)
    if problems:
        raise RecordError(problems)
    for warning in warnings:  # quiet: a caller that shows them (a live preview)
        logger.log(logging.DEBUG if quiet else logging.WARNING, "%s", warning)
    if options.document is Document.talking_points and context.counterpart is None:
        raise RecordError([Problem(
            "the talking points name the ambassador received as the counterpart: give the "
            "addressee a 'head'", case.locate(case.note.addressee))])
    return Prepared(context, catalogue, tuple(warnings),
                    build_companion(options.document, context, catalogue))


def _other_language(lang: str, options: RenderOptions, where: Location, role: str
                    ) -> Catalogue:
    """The catalogue of the language of the note's ``role`` (its courtesy
    translation, or the original of a translation): one is needed to name it.

    :raises RecordError: located at ``where``, if no folder has one.
    """
    found = load_catalogue(lang, options.folders)
    if found is None:
        raise RecordError([Problem(
            f"no phrase catalogue for the {role}'s language {lang!r}; available: "
            f"{', '.join(options.folders.languages()) or 'none'}", where)])
    return found


def _catalogue(case: Case, lang: str, options: RenderOptions, note_type: NoteType,
               location: Location) -> Catalogue:
    """The phrases of ``lang`` with the sender's house formulae over them."""
    catalogue = load_catalogue(lang, options.folders)
    if catalogue is None:
        available = options.folders.languages()
        problem = (f"no phrase catalogue for language {lang!r}; available: "
                   f"{', '.join(available) or 'none'}")
        raise RecordError([Problem(problem, location)])
    sender = case.parties[case.note.sender]
    house = sender.formulae.get(lang, {}) if isinstance(sender, Profile) else {}
    unknown = [key for key in house if key not in catalogue.phrases
               and key.partition(".")[2] not in catalogue.phrases]
    if unknown:
        raise RecordError([Problem(
            f"{key!r} is not a phrase of the {catalogue.language} catalogue, so this house "
            "formula would never be used (check the key's spelling)",
            case.locate(sender.id, "formulae", lang, key)) for key in unknown])
    return catalogue.with_phrases(house, variant=note_type.value)


