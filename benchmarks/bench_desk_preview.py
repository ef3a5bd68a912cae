"""How long the desk's warm preview takes per keystroke, without the browser:
``DraftPreview.render`` of the worked case with a one-character change each
time, and where that time goes.

    .venv/bin/python benchmarks/bench_desk_preview.py [--keys 50]

Over a copy of the seeds, types --keys characters one at a time at the end
of the note's English protest (each render's edit holds every character
typed so far, as the desk sends it) and reports the median, 90th percentile
and worst ``render()`` time, then the same for its parts: applying the edit
to the file (ruamel.yaml round trip), loading the draft (``load_case`` with
the overlay), wording it (``prepare``) and templating it (``render_html``).
The first render after the preview is made is reported apart (what is not
yet warm). Run it alone: on a shared machine the figures are provisional.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from notegen.desk.preview import DraftPreview
from notegen.desk.workspace import Edit, Workspace, apply_edits
from notegen.options import RenderOptions, settle
from notegen.records.case import load_case
from notegen.render.html import render_html
from notegen.wording.prepare import prepare

ROOT = Path(__file__).resolve().parent.parent
WORKED = "az-kyiv-2025/note.yaml"
FIELD = "note.protest.en"
TYPED = (", and against every strike on the premises of the Embassy since the coordinates "
         "of all Azerbaijani missions in Ukraine were handed over")


def _summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (f"{name:<28} median {statistics.median(times):7.1f} ms   p90 {p90:7.1f} ms   "
            f"worst {max(times):7.1f} ms")


def _timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=50)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(shutil.copytree(ROOT / "seeds", Path(folder) / "seeds"))
        workspace = Workspace(root)
        made, preview = _timed(lambda: DraftPreview(workspace))
        protest = workspace.open(WORKED).data["note"]["protest"]["en"]
        edits = [[Edit(WORKED, FIELD, protest + TYPED[:count % len(TYPED) + 1])]
                 for count in range(arguments.keys)]
        assert isinstance(preview, DraftPreview)
        first = preview.render(WORKED, edits[0], lang=None, note_type=None)
        assert first.html is not None, first.problems
        renders = []
        for edit in edits:
            result = preview.render(WORKED, edit, lang=None, note_type=None)
            assert result.html is not None, result.problems
            renders.append(result.elapsed_ms)
        raw = (root / WORKED).read_bytes()
        parts: dict[str, list[float]] = {"apply the edit": [], "load the draft": [],
                                         "prepare": [], "render_html": []}
        options = RenderOptions()
        for edit in edits:
            took, new = _timed(lambda edit=edit: apply_edits(WORKED, raw, edit))
            parts["apply the edit"].append(took)
            assert isinstance(new, bytes)
            overlay = {Path(os.path.realpath(root / WORKED)): new}
            took, case = _timed(lambda overlay=overlay: load_case(root / WORKED, root=root,
                                                                  overlay=overlay))
            parts["load the draft"].append(took)
            settled = settle(case, options)  # type: ignore[arg-type]
            took, prepared = _timed(lambda case=case, settled=settled: prepare(case, settled))
            parts["prepare"].append(took)
            took, _ = _timed(lambda case=case, settled=settled, prepared=prepared: render_html(
                case, settled, prepared=prepared))  # type: ignore[arg-type]
            parts["render_html"].append(took)
    lines = [f"DraftPreview made in {made:.1f} ms; first render {first.elapsed_ms:.1f} ms",
             _summary(f"render() x {len(renders)}", renders),
             *(_summary(f"  {name}", times) for name, times in parts.items()),
             f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}: on a shared "
             "machine the figures are provisional)"]
    sys.stdout.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
