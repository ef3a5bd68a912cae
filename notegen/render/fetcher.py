"""The only way WeasyPrint may read anything: the template folders' own files
and ``data:`` URLs. Everything else (other files, the network, paths that
escape through ``..`` or symlinks) is refused.

Relative URLs resolve against the first template folder; which file a URL
inside any folder names is the template folders' answer
(:meth:`~notegen.TemplateFolders.same_file`): the same relative path in the
first folder that has it, the built-in one last, just as templates are. A
ministry's style sheet can so use the built-in fonts, and the built-in style
sheet a ministry's images.

Imported lazily: it needs WeasyPrint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher

from ..template_folders import TemplateFolders
from .limits import shorten

logger = logging.getLogger(__name__)


class BlockedResource(ValueError):
    """Raised for a URL outside the allowed folders."""


class TemplateAssetFetcher(URLFetcher):  # type: ignore[misc]
    """A URL fetcher that serves only files inside ``folders`` and ``data:`` URLs."""

    def __init__(self, folders: TemplateFolders) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=5)
        self.folders = folders

    def fetch(self, url: str, headers: Any = None) -> Any:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "file":
            url = self._layered(url).as_uri()
        elif scheme != "data":
            raise BlockedResource(f"{shorten(url)} is not a template file (only template "
                                  "files and data: URLs may be used)")
        return super().fetch(url, headers)

    def _layered(self, url: str) -> Path:
        """The file ``url`` names, found in the first folder that has it."""
        found = self.folders.same_file(Path(unquote(urlsplit(url).path)))
        if found is None:
            logger.debug("refused %s", shorten(url))
            raise BlockedResource(f"{shorten(url)} is outside the template folders")
        return found
