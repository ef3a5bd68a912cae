"""How the register's history lookup grows with the register:
``Register.history`` and ``Register.with_history`` for a note recalling 10
incidents, in SQLite registers of 100, 1,000 and 10,000 issued notes.

Each register is built in a temporary folder, fast, through the register's
own writing (``_append``, ``_index``: every entry chained and guarded as
``issue`` would, without rendering a PDF): note *i* protests incident
``inc-i`` and recalls ``inc-(i-1)`` to ``inc-(i-3)``, with the records of
the worked case (about 25 KB each) around them, and every fifth note has a
reply. The note measured recalls 10 incidents from the middle of the
register, which about 13 notes protested whatever the register's size: a
lookup that reads by index takes about the same time at every size; one
that reads every note grows with it.

Each size is timed in a worker process that imports notegen from a source
tree; with ``--base TREE`` (e.g. ``git worktree add /tmp/history-base
<commit>``) the same is timed with that tree's code, size by size in turns.
Each figure is the median over the rounds with its spread (min–max)::

    .venv/bin/python benchmarks/bench_history.py [--rounds 21] [--base TREE]
        [--sizes 100,1000,10000]

Run it alone: timings on a machine shared with tests mislead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent

#: The incidents the measured note recalls.
RECALLED = 10

WORKER = r"""
import dataclasses, datetime as dt, json, sys, time
from pathlib import Path

tree, bench, database, size, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    int(sys.argv[5])
sys.path[:0] = [tree, bench]
from paired import measure, spread
from notegen import load_case, open_register
from notegen.archive import register as module
from notegen.options import RenderOptions, settle
from notegen.render.pdf import rendered_records

worked = load_case(Path(tree) / "seeds" / "az-kyiv-2025" / "note.yaml")
template = json.loads(rendered_records(worked, settle(worked, RenderOptions())))
start = dt.date(2000, 1, 1)
built = time.perf_counter()
with open_register(database) as register:
    with register._transaction("building a benchmark register", lock=module._WRITES) as cursor:
        position, head = register._head(cursor)
        for i in range(1, size + 1):
            subject = f"inc-{i}"
            earlier = [f"inc-{k}" for k in range(max(1, i - 3), i)]
            date = (start + dt.timedelta(days=i // 3)).isoformat()
            reference = f"B/{i}"
            template["note"].update(subject=subject, earlier=earlier, date=date,
                                    reference=reference)
            records = json.dumps(template, ensure_ascii=False, sort_keys=True)
            fields = {"reference": reference, "series": "bench", "number": i, "note_date": date,
                      "sender": worked.note.sender, "addressee": worked.note.addressee,
                      "subject": subject, "language": "en", "note_type": "note_verbale",
                      "pdf_sha256": "0" * 64, "records_sha256": module.hashlib.sha256(
                          records.encode()).hexdigest(), "issued_by": "bench",
                      "issued_at": "2026-01-01T00:00:00+00:00"}
            position += 1
            head = register._append(cursor, "issued", position, head, fields, records)
            if hasattr(register, "_index"):  # the code under test indexes its notes
                register._index(cursor, "bench", reference, (subject, *earlier))
            if i % 5 == 0:
                position += 1
                head = register._append(cursor, "reply", position, head, {
                    "series": "bench", "reference": reference, "received": date,
                    "their_reference": f"R{i}", "summary": None, "file_sha256": None,
                    "file_size": None, "unsatisfactory": 0, "recorded_by": "bench",
                    "recorded_at": "2026-01-01T00:00:00+00:00"})
    built = time.perf_counter() - built
    middle = size // 2
    note = worked.note.model_copy(update={
        "subject": f"inc-{middle}", "date": dt.date(2099, 1, 1),
        "earlier": [f"inc-{k}" for k in range(middle - 9, middle)], "recalled_notes": []})
    case = dataclasses.replace(worked, note=note)
    found = register.history(case)
    history = spread(measure(lambda: register.history(case), rounds=rounds, warmup=2))
    with_history = spread(measure(lambda: register.with_history(case), rounds=rounds,
                                  warmup=2))
print(json.dumps({"size": size, "recalled": len(found), "built": built,
                  "bytes": Path(database).stat().st_size,
                  "history": [history.median, history.low, history.high],
                  "with_history": [with_history.median, with_history.low,
                                   with_history.high]}))
"""


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def run(tree: Path, size: int, rounds: int, folder: Path) -> dict[str, Any]:
    database = folder / f"{tree.name}-{size}.db"
    result = subprocess.run([sys.executable, "-c", WORKER, str(tree), str(HERE), str(database),
                             str(size), str(rounds)], capture_output=True, text=True,
                            check=False)
    if result.returncode:
        raise SystemExit(f"the worker for {tree} failed:\n{result.stderr[-3000:]}")
    database.unlink()
    row: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return row


def figure(values: list[float]) -> str:
    median, low, high = values
    return f"{median * 1000:8.2f} ms [{low * 1000:.2f}–{high * 1000:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--base", type=Path, help="another source tree, timed in turns")
    args = parser.parse_args()
    trees = [("now", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    say(f"{'tree':5} {'notes':>6} {'recalled':>8} {'history':>30} {'with_history':>30} "
        f"{'built':>8} {'MB':>6}")
    with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            for name, tree in trees:
                row = run(tree, size, args.rounds, Path(folder))
                say(f"{name:5} {size:6d} {row['recalled']:8d} {figure(row['history']):>30} "
                    f"{figure(row['with_history']):>30} {row['built']:7.1f}s "
                    f"{row['bytes'] / 2**20:6.1f}")


if __name__ == "__main__":
    main()
