"""How long the desk's warm preview takes per keystroke, without the browser:
``DraftPreview.render`` of the worked case with a one-character change each
time, and where that time goes.

    .venv/bin/python benchmarks/bench_desk_preview.py [--keys 50]

Over a copy of the seeds, types --keys characters one at a time at the end
of the note's English protest (each render's edit holds every character
typed so far, as the desk sends it) and reports the median, 90th percentile
and worst ``render()`` time, then the same for its parts: writing the edit
into the draft (``draft_edits``), loading the draft (``load_case`` with the
overlay), wording it (``prepare``) and templating it (``render_html``); and,
for comparison, what the same edit costs when saved (the ruamel.yaml round
trip of ``apply_edits``, which a preview does not need), paired with drafting
the same edit (paired.py: the median of the per-key ratios, with their spread).
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
from pathlib import Path

from paired import pair

from notegen.desk.preview import DraftPreview
from notegen.desk.workspace import Edit, Workspace, apply_edits, draft_edits
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


def _ratio(name: str, a: list[float], b: list[float]) -> str:
    ratio = pair(a, b).ratio
    return f"{name:<44} {ratio.median:.1f}x [{ratio.low:.1f}–{ratio.high:.1f}], paired per key"


def _since(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=50)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(shutil.copytree(ROOT / "seeds", Path(folder) / "seeds"))
        workspace = Workspace(root)
        began = time.perf_counter()
        preview = DraftPreview(workspace)
        made = _since(began)
        protest = workspace.open(WORKED).data["note"]["protest"]["en"]
        edits = [[Edit(WORKED, FIELD, protest + TYPED[:count % len(TYPED) + 1])]
                 for count in range(arguments.keys)]
        first = preview.render(WORKED, edits[0], lang=None, note_type=None)
        assert first.html is not None, first.problems
        renders = []
        for edit in edits:
            result = preview.render(WORKED, edit, lang=None, note_type=None)
            assert result.html is not None, result.problems
            renders.append(result.elapsed_ms)
        raw = (root / WORKED).read_bytes()
        parts: dict[str, list[float]] = {"draft the edit": [], "load the draft": [],
                                         "prepare": [], "render_html": [],
                                         "(a save's round trip)": []}
        options = RenderOptions()
        for edit in edits:
            began = time.perf_counter()
            apply_edits(WORKED, raw, edit)
            parts["(a save's round trip)"].append(_since(began))
            began = time.perf_counter()
            new = draft_edits(WORKED, raw, edit)
            parts["draft the edit"].append(_since(began))
            began = time.perf_counter()
            case = load_case(root / WORKED, root=root,
                             overlay={Path(os.path.realpath(root / WORKED)): new})
            parts["load the draft"].append(_since(began))
            settled = settle(case, options)
            began = time.perf_counter()
            prepared = prepare(case, settled)
            parts["prepare"].append(_since(began))
            began = time.perf_counter()
            render_html(case, settled, prepared=prepared)
            parts["render_html"].append(_since(began))
    lines = [f"DraftPreview made in {made:.1f} ms; first render {first.elapsed_ms:.1f} ms",
             _summary(f"render() x {len(renders)}", renders),
             *(_summary(f"  {name}", times) for name, times in parts.items()),
             _ratio("a save's round trip / drafting the edit",
                    parts["draft the edit"], parts["(a save's round trip)"]),
             f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}: on a shared "
             "machine the figures are provisional)"]
    sys.stdout.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
