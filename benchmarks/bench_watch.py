"""What a save costs in ``notegen watch``: notegen's own time per re-render
of the worked case's preview, split into its stages, and a newcomer's round
trip (``new case`` → first preview → an edit → the preview after it).

Stages are timed in the same warm process, in turns, so each sees the same
load: reading the records (``load_case``), wording them (``prepare``), the
template (``render_html`` given the worded note), and the whole refresh the
watcher runs on a save (all three, plus the page's bookkeeping). The
baseline is the template stage alone: what any preview must pay. Run it
alone, not while tests run::

    .venv/bin/python benchmarks/bench_watch.py [--saves N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import notegen
from notegen.options import settle
from notegen.render.scaffold import CaseSpec, new_case
from notegen.watch import Preview

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms (p90 " \
           f"{sorted(samples)[int(len(samples) * 0.9)] * 1000:.2f})"


def main(saves: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        seeds = Path(shutil.copytree(SEEDS, Path(scratch) / "seeds"))
        path = seeds / "az-kyiv-2025" / "note.yaml"
        preview = Preview(path, notegen.RenderOptions())
        preview.refresh()
        preview.refresh()  # warm
        stages: dict[str, list[float]] = {"load_case": [], "prepare": [], "template": [],
                                          "whole refresh": []}
        incidents = seeds / "az-mfa-catalogue" / "incidents.yaml"
        text = incidents.read_text(encoding="utf-8")
        for index in range(saves):
            incidents.write_text(text.replace("place: {en: Kyiv,", f"place: {{en: Kyiv{index},"),
                                 encoding="utf-8")
            start = time.perf_counter()
            case = notegen.load_case(path)
            loaded = time.perf_counter()
            options = settle(case, notegen.RenderOptions())
            prepared = notegen.prepare(case, options)
            worded = time.perf_counter()
            notegen.render_html(case, options, prepared=prepared)
            done = time.perf_counter()
            stages["load_case"].append(loaded - start)
            stages["prepare"].append(worded - loaded)
            stages["template"].append(done - worded)
            start = time.perf_counter()
            snapshot = preview.refresh([incidents])
            stages["whole refresh"].append(time.perf_counter() - start)
            assert snapshot.error is None, snapshot.error
        lines = [f"re-render of the worked case after a save, {saves} saves, median:"]
        lines += [f"  {name:14} {median_ms(samples)}" for name, samples in stages.items()]
        ratio = statistics.median(stages["whole refresh"]) / statistics.median(
            stages["template"])
        lines.append(f"  whole refresh / template alone: {ratio:.2f}")

        start = time.perf_counter()
        written = new_case(Path(scratch) / "new", CaseSpec(
            sender_state="az", addressee_state="ru", date=dt.date(2025, 11, 14),
            place="Kyiv", country="ua"))
        fresh = Preview(written[-1], notegen.RenderOptions())
        first = fresh.refresh()
        note = written[-1]
        note.write_text(note.read_text(encoding="utf-8").replace(
            "[lodge a strong protest against …]", "lodge a strong protest"), encoding="utf-8")
        second = fresh.refresh([note])
        total = time.perf_counter() - start
        assert first.error is None
        assert second.error is None
        lines.append(f"newcomer round trip (new case, preview, edit, preview), in a warm "
                     f"process: {total * 1000:.1f} ms")
        sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=30, help="saves to time (default 30)")
    main(parser.parse_args().saves)
