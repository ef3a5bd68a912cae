"""Hyphenation dictionaries from the template folders: a language Pyphen
(which WeasyPrint hyphenates with) has no dictionary for, such as
Azerbaijani, brings its own as ``hyphenation/<lang>.dic`` (Hunspell/Pyphen
patterns), and a folder may replace a built-in language's."""

from __future__ import annotations

import logging

from ..template_folders import LANGUAGE_CODE, TemplateFolders

logger = logging.getLogger(__name__)

#: Pyphen's own dictionaries, as it found them.
_PYPHEN_OWN: dict[str, object] | None = None


def register_hyphenation(folders: TemplateFolders) -> list[str]:
    """Make the folders' ``hyphenation/<lang>.dic`` known to Pyphen, the first
    folder's winning; the languages registered."""
    import pyphen  # type: ignore[import-untyped]

    global _PYPHEN_OWN
    if _PYPHEN_OWN is None:
        _PYPHEN_OWN = dict(pyphen.LANGUAGES)
    # What another stack of folders registered in this process is undone.
    for name in set(pyphen.LANGUAGES) - set(_PYPHEN_OWN):
        del pyphen.LANGUAGES[name]
        pyphen.LANGUAGES_LOWERCASE.pop(name.lower(), None)
    pyphen.LANGUAGES.update(_PYPHEN_OWN)
    registered = []
    for name in folders.names("hyphenation", ".dic"):
        if not LANGUAGE_CODE.fullmatch(name):
            continue
        path = folders.find(f"hyphenation/{name}.dic")
        if path is None:
            continue
        pyphen.LANGUAGES[name] = path
        pyphen.LANGUAGES_LOWERCASE[name.lower()] = name
        logger.debug("hyphenation of %s from %s", name, path)
        registered.append(name)
    return registered
