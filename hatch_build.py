"""The wheel's build hook: the seeds' modelines name the schema where the wheel has it.

Every record file of ``seeds/`` starts with an editor modeline naming the
records' JSON Schema by a path relative to the file
(``# yaml-language-server: $schema=../../notegen/records/record.schema.json``).
The wheel moves the seeds into the package (``notegen/seeds/``, beside
``notegen/records/``), so the same path would point one folder too high
there. The wheel gets copies of those files whose modeline names the schema
from where they lie in the wheel; the checkout's files are left as they are.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: How a modeline starts.
MODELINE = "# yaml-language-server: $schema="
#: Where the wheel puts the checkout's seeds/ and notegen/.
SEEDS, PACKAGE = "notegen/seeds", "notegen"


class SeedModelines(BuildHookInterface):  # type: ignore[type-arg]
    """Ships the seeds with their modelines relative to the wheel's layout."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install reads the checkout's files
        self._copies = tempfile.TemporaryDirectory(prefix="notegen-seeds-")
        root, seeds = Path(self.root).resolve(), Path(self.root).resolve() / "seeds"
        for path in sorted(seeds.rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            first, newline, rest = text.partition("\n")
            if not first.startswith(MODELINE):
                continue
            schema = (path.parent / first.removeprefix(MODELINE)).resolve()
            if not schema.is_relative_to(root / PACKAGE):
                continue  # a schema elsewhere: the wheel does not move it
            shipped = posixpath.join(SEEDS, path.relative_to(seeds).as_posix())
            in_wheel = posixpath.join(PACKAGE, schema.relative_to(root / PACKAGE).as_posix())
            relative = posixpath.relpath(in_wheel, posixpath.dirname(shipped))
            copy = Path(self._copies.name) / path.relative_to(seeds)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(MODELINE + relative + newline + rest, encoding="utf-8")
            build_data["force_include"][os.fspath(copy)] = shipped

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        copies = getattr(self, "_copies", None)
        if copies is not None:
            copies.cleanup()
