"""Cold commands and the warm engine: what a user waits for at the prompt.

Each figure is a pair timed in turns (A, B, then B, A in the next round, so
both see the same load), as the median over the rounds with its spread
(min-max), and the ratio of the medians; issue 22's targets beside them:

- ``notegen --help`` against ``python -c "import click"`` (≤ 1.5×);
- cold ``notegen validate`` of the worked case, through the warm daemon and
  in process (``--no-daemon``) (≤ 0.25 s);
- cold ``notegen render`` through the warm daemon against in process, both
  rendering (``--no-cache``) (≤ 0.25×), with the same bytes;
- a repeat render of unchanged input from the command line (a cache hit,
  through the daemon) (≤ 0.15 s), and in a warm process: reading the case,
  the key and the entry (≤ 10 ms).

The daemon and the cache live in folders of the benchmark's own, and the
daemon is stopped at the end::

    .venv/bin/python benchmarks/bench_cold.py [--rounds 7]

Run it alone: on a machine shared with other work the figures mislead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"
PYTHON = sys.executable

#: Repeats of a cache hit in a warm process (the best of each batch counts).
_IN_PROCESS = """
import sys, time
from pathlib import Path
import notegen
from notegen.options import settle
from notegen.render.cache import OutputCache, default_folder, output_key
case_file, rounds = sys.argv[1], int(sys.argv[2])
cache = OutputCache(default_folder())
def hit():
    case = notegen.load_case(case_file)
    options = settle(case)
    key = output_key(case, options, "pdf")
    entry = cache.get(key)
    if entry is None:
        cache.put(key, notegen.render_pdf(case, options=options))
hit(); hit()
for _ in range(rounds):
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter(); hit(); best = min(best, time.perf_counter() - began)
    print(best, flush=True)
"""


def _timed(command: Sequence[str], environ: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=environ, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - began


def _pair(first: Sequence[str], second: Sequence[str], environ: dict[str, str],
          rounds: int) -> tuple[list[float], list[float]]:
    """``first`` and ``second`` timed in turns, the order swapped each round."""
    a: list[float] = []
    b: list[float] = []
    for number in range(rounds):
        if number % 2:
            b.append(_timed(second, environ))
            a.append(_timed(first, environ))
        else:
            a.append(_timed(first, environ))
            b.append(_timed(second, environ))
    return a, b


def _figure(times: list[float]) -> str:
    return (f"{statistics.median(times) * 1000:8.1f} ms "
            f"({min(times) * 1000:.1f}-{max(times) * 1000:.1f})")


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _line(label: str, times: list[float], target: str = "") -> None:
    _say(f"  {label:<44} {_figure(times)}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    work = Path(tempfile.mkdtemp(prefix="ng-bench-", dir="/tmp"))
    (work / "run").mkdir(mode=0o700)
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("NOTEGEN_")}
    environ.update(XDG_RUNTIME_DIR=str(work / "run"), XDG_CACHE_HOME=str(work / "cache"),
                   NOTEGEN_DAEMON_IDLE_MINUTES="30")
    notegen = [PYTHON, "-m", "notegen"]
    out = str(work / "note.pdf")
    try:
        subprocess.run([*notegen, "daemon", "start"], env=environ, check=True)
        # Warm the daemon: it renders from its second note on at full speed.
        for _ in range(3):
            _timed([*notegen, "render", "--no-cache", str(CASE), "-o", out], environ)
        _say(f"{rounds} rounds, paired, median (min-max); machine: {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.2f}")

        click, helped = _pair([PYTHON, "-c", "import click"], [*notegen, "--help"], environ,
                              rounds)
        _say("notegen --help")
        _line("python -c 'import click'", click)
        _line("notegen --help", helped,
              f"ratio {statistics.median(helped) / statistics.median(click):.2f} "
              "(target <= 1.5)")

        by_daemon, in_process = _pair(
            [*notegen, "validate", str(CASE)],
            [*notegen, "validate", "--no-daemon", str(CASE)], environ, rounds)
        _say("notegen validate (worked case)")
        _line("through the warm daemon", by_daemon, "(target <= 250 ms)")
        _line("in process (--no-daemon)", in_process)

        warm_out, cold_out = str(work / "warm.pdf"), str(work / "cold.pdf")
        by_daemon, in_process = _pair(
            [*notegen, "render", "--no-cache", str(CASE), "-o", warm_out],
            [*notegen, "render", "--no-cache", "--no-daemon", str(CASE), "-o", cold_out],
            environ, rounds)
        same = Path(warm_out).read_bytes() == Path(cold_out).read_bytes()
        _say("notegen render (rendering: --no-cache)")
        _line("through the warm daemon", by_daemon,
              f"ratio {statistics.median(by_daemon) / statistics.median(in_process):.2f} "
              "(target <= 0.25)")
        _line("in process (--no-daemon)", in_process, f"same bytes: {same}")

        _timed([*notegen, "render", str(CASE), "-o", out], environ)  # kept now
        hit_daemon, hit_here = _pair(
            [*notegen, "render", str(CASE), "-o", out],
            [*notegen, "render", "--no-daemon", str(CASE), "-o", out], environ, rounds)
        _say("notegen render, unchanged input (a cache hit)")
        _line("through the warm daemon", hit_daemon, "(target <= 150 ms)")
        _line("in process (--no-daemon)", hit_here)

        result = subprocess.run([PYTHON, "-c", _IN_PROCESS, str(CASE), str(rounds)],
                                env=environ, check=True, capture_output=True, text=True,
                                cwd=ROOT)
        _say("a cache hit in a warm process (read the case, key, entry)")
        _line("best of 5, per round", [float(x) for x in result.stdout.split()],
              "(target <= 10 ms)")
    finally:
        subprocess.run([*notegen, "daemon", "stop"], env=environ, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
