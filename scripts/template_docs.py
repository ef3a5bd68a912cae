"""Write the context reference of docs/templates.md from notegen/wording/context.py.

    .venv/bin/python scripts/template_docs.py

Everything after "## The context: `note`" and its introduction is generated
from the dataclasses' `#:` comments; tests/test_context.py checks it is
current.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import notegen.wording.context

DOC = Path(__file__).resolve().parent.parent / "docs" / "templates.md"
MARKER = "sentence complete: a template places and styles, it decides no wording.\n\n"
ORDER = ["NoteContext", "PartyView", "PersonView", "Courtesy", "IncidentView", "FacilityView",
         "InstrumentView", "CitationView", "DateText", "Metadata"]


def reference() -> str:
    """The tables of every context class, from the source's comments."""
    source = inspect.getsource(notegen.wording.context)
    lines = source.splitlines()
    classes = {node.name: node for node in ast.parse(source).body
               if isinstance(node, ast.ClassDef)}
    out = []
    for name in ORDER:
        node = classes[name]
        doc = (ast.get_docstring(node) or "").splitlines()[0]
        out.append(f"### `{name}`\n\n{doc}\n\n| field | type | what it is |\n|---|---|---|")
        for statement in node.body:
            if not isinstance(statement, ast.AnnAssign):
                continue
            index, comment = statement.lineno - 2, []
            while index >= 0 and lines[index].strip().startswith("#:"):
                comment.insert(0, lines[index].strip()[2:].strip())
                index -= 1
            kind = ast.get_source_segment(source, statement.annotation) or ""
            field = statement.target.id  # type: ignore[union-attr]
            text = " ".join(comment).replace("``", "`")
            out.append(f"| `{field}` | `{kind.replace('|', chr(92) + '|')}` | {text} |")
        out.append("")
    return "\n".join(out)


def document() -> str:
    """docs/templates.md with its reference part brought up to date."""
    text = DOC.read_text(encoding="utf-8")
    return text[:text.index(MARKER) + len(MARKER)] + reference()


if __name__ == "__main__":
    DOC.write_text(document(), encoding="utf-8")
