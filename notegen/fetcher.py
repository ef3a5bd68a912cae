"""The only way WeasyPrint may read anything: the template folders' own files
and ``data:`` URLs. Everything else (other files, the network, paths that
escape through ``..`` or symlinks) is refused.

Imported lazily: it needs WeasyPrint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)


class BlockedResource(ValueError):
    """Raised for a URL outside the allowed folders."""


class TemplateAssetFetcher(URLFetcher):  # type: ignore[misc]
    """A URL fetcher that serves only files inside ``folders`` and ``data:`` URLs."""

    def __init__(self, folders: Sequence[Path]) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=5)
        self.folders = tuple(folder.resolve() for folder in folders)

    def fetch(self, url: str, headers: Any = None) -> Any:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not path.is_file() or not any(path.is_relative_to(f) for f in self.folders):
                logger.debug("refused %s", url)
                raise BlockedResource(f"{url} is outside the template folders")
        elif scheme != "data":
            raise BlockedResource(f"{url} is not a template file (only template files and "
                                  "data: URLs may be used)")
        return super().fetch(url, headers)
