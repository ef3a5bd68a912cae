"""How validation grows with the records: ``load_case`` and ``prepare`` (what
``notegen validate`` does) over synthetic catalogues of 10, 200, 1,000,
2,000 and 10,000 incidents (tests/catalogue_factory.py), in two shapes:

- ``all``: the case includes the catalogue's files and its note recalls
  every incident before its subject (the longest chronology, so that every
  cross-record check sees them all);
- ``rule``: the case names the catalogue (``catalogue:``) and a rule chooses
  its earlier incidents (those of the last year, by the addressee's State on
  the sender's premises): what a ministry's notes do.

Each size is timed in a worker process that imports notegen from a source
tree; with ``--base TREE`` (another checkout, e.g. ``git worktree add
/tmp/catalogue-base <commit>``) a second worker times that tree's code on the
same files, the two taking turns size by size, so both see the same load.
Each figure is the median over the rounds (each round's time the best of
three runs in a row) with its spread (min-max). The ratio 2,000/200 is the
one issue 22 sets (linear is 10, target at most 11): paired (paired.py), the
median of the rounds' own ratios with their spread, and of the best rounds
(the steadier on a busy machine); with a base tree, each size's paired
ratio now/base too::

    .venv/bin/python benchmarks/bench_validate.py [--rounds 5] [--base TREE]
        [--sizes 10,200,1000,2000,10000]

The base tree times the ``all`` shape only (an older tree knows neither
catalogues nor rules). Run it alone: timings on a machine shared with tests
mislead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paired import pair, spread  # noqa: E402

from tests.catalogue_factory import synthetic_rows, write_case  # noqa: E402

#: What a worker runs: import notegen from its tree, then for each case
#: path read on stdin, time its load and prepare three times running and
#: answer the best, in seconds (the others pay for a busy machine).
_WORKER = """
import json, logging, sys, time
sys.path.insert(0, sys.argv[1])
import notegen
from notegen.wording.prepare import prepare
logging.disable(logging.WARNING)  # the synthetic notes' legal warnings
print(json.dumps(notegen.__file__), flush=True)
for line in sys.stdin:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        prepare(notegen.load_case(json.loads(line)))
        best = min(best, time.perf_counter() - began)
    print(json.dumps(best), flush=True)
"""

SIZES = (10, 200, 1000, 2000, 10000)


class _Worker:
    def __init__(self, tree: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", _WORKER, str(tree)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        self.module = json.loads(self._line())

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the worker stopped (exit {self.process.wait()})")
        return line

    def time(self, case: Path) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(str(case)) + "\n")
        self.process.stdin.flush()
        return float(json.loads(self._line()))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def _figure(times: list[float]) -> str:
    figures = spread(times).scaled(1000)
    return f"{figures.median:9.1f} ms ({figures.low:.1f}-{figures.high:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", type=Path, help="a source tree to compare against")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    trees = {"now": ROOT, **({"base": args.base.resolve()} if args.base else {})}
    with tempfile.TemporaryDirectory() as folder:
        shapes = {
            "all": {size: write_case(Path(folder) / "all" / str(size), synthetic_rows(size),
                                     catalogue=False, earlier="all") for size in sizes},
            "rule": {size: write_case(Path(folder) / "rule" / str(size), synthetic_rows(size),
                                      earlier={"rule": {"since": "2025-01-01"}},
                                      chronology_required=False)
                     for size in sizes}}
        workers = {name: _Worker(tree) for name, tree in trees.items()}
        #: Each column: its name, the worker, the shape.
        columns = [(f"{name}, all", name, "all") for name in workers]
        columns.append(("now, rule", "now", "rule"))
        lines = [f"{name}: {worker.module}" for name, worker in workers.items()]
        for worker in workers.values():
            worker.time(shapes["all"][sizes[0]])  # warm: first-use setup is not validation
        times: dict[tuple[str, int], list[float]] = {}
        for round_ in range(args.rounds):
            order = columns if round_ % 2 == 0 else list(reversed(columns))
            for size in sizes:
                for column, name, shape in order:
                    times.setdefault((column, size), []).append(
                        workers[name].time(shapes[shape][size]))
        for worker in workers.values():
            worker.close()
    lines += ["", f"load_case + prepare, median of {args.rounds} (min-max):",
              f"{'incidents':>10} " + " ".join(f"{column:>28}" for column, _, _ in columns)]
    lines += [f"{size:>10,} " + " ".join(f"{_figure(times[(column, size)]):>28}"
                                         for column, _, _ in columns) for size in sizes]
    if 200 in sizes and 2000 in sizes:
        for column, _, _ in columns:
            ratio = pair(times[(column, 200)], times[(column, 2000)]).ratio
            best = min(times[(column, 2000)]) / min(times[(column, 200)])
            lines.append(f"2,000/200 ({column}): {ratio.median:.1f} paired "
                         f"({ratio.low:.1f}-{ratio.high:.1f}), {best:.1f} of the best rounds  "
                         "(linear: 10; target: at most 11)")
    if "base" in workers:
        lines += ["", "now/base, all, paired: median of the rounds' ratios (min-max)"]
        for size in sizes:
            ratio = pair(times[("base, all", size)], times[("now, all", size)]).ratio
            lines.append(f"{size:>10,} {ratio.median:9.2f} ({ratio.low:.2f}-{ratio.high:.2f})")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
