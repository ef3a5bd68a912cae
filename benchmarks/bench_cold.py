"""Cold commands and the warm engine: what a user waits for at the prompt.

Each comparison is a pair timed in turns (A, B, then B, A in the next round,
so both see the same load: ``paired.py``), shown as each side's median with
its spread (min-max) and the median of the per-round ratios B/A; commands run
as new processes are timed as wall time and as the CPU time their process
(and its children) used, which a busy machine inflates far less. Issue 22's
targets beside them:

- ``notegen --help`` against ``python -c "import click"`` (<= 1.5x);
- cold ``notegen validate`` of the worked case, in process (``--no-daemon``)
  and through the warm daemon (<= 0.25 s);
- cold ``notegen render --no-daemon`` against a minimal script rendering the
  same HTML with Jinja and WeasyPrint to PDF/A-3b (<= 1.10x): like with like,
  both PDF/A-3b with the built-in fonts; notegen also checks and words the
  records, runs its templates (compiled ones kept in the cache folder, as a
  user's later commands find them) and embeds the records; notegen opens
  WeasyPrint's libraries by their sonames, without the lookups WeasyPrint's
  own import makes, so the same script doing the same is timed too (what
  notegen's own work costs);
- cold ``notegen render`` through the warm daemon against in process, both
  rendering (``--no-cache``) (<= 0.25x), with the same bytes; each command
  starts once the daemon is idle with its spare child ready, as between a
  user's commands; the daemon's renders back to back are timed too; its
  CPU time is also counted with the daemon's and its render child's
  (``/proc/PID/schedstat``), which another tenant's work inflates less than
  wall time;
- a repeat render of unchanged input from the command line (a cache hit,
  through the daemon) (<= 0.15 s), and in a warm process: reading the case,
  the key and the entry (<= 10 ms);
- what ``import weasyprint`` spends its time on (docs/weasyprint-import.md).

notegen is compiled to bytecode first, as pip leaves an installed package.
The daemon and the cache live in folders of the benchmark's own, and the
daemon is stopped at the end::

    .venv/bin/python benchmarks/bench_cold.py [--rounds 7] [--only help,validate,...]
        [--base TREE]

With ``--base TREE`` (another checkout: ``git worktree add /tmp/cold-base
435e07b``, the code before issue 22), the warm daemon's render is also
paired with that tree's cold render of its own worked case: "today's cold
render" as the issue measured it.

Run it alone: on a machine shared with other work the figures mislead.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import functools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from paired import NOTEGEN, Pair, alternate_clocks, children_cpu, header, line, measure, spread

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "seeds" / "az-kyiv-2025" / "note.yaml"
PYTHON = sys.executable
SECTIONS = ("help", "validate", "minimal", "daemon", "repeat", "weasyprint")

#: What any tool must at least pay to turn the note's HTML into PDF/A-3b.
MINIMAL_SCRIPT = """
import sys, jinja2, weasyprint
source = open(sys.argv[1], encoding="utf-8").read()
html = jinja2.Environment(autoescape=True).from_string(source).render()
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf(sys.argv[3], pdf_variant="pdf/a-3b")
"""

#: The same, opening WeasyPrint's libraries by their sonames as notegen does
#: (``notegen.render.pdf._import_weasyprint``): what notegen adds to the
#: same import, like with like.
MINIMAL_SONAMES = """
import ctypes.util
lookup, ctypes.util.find_library = ctypes.util.find_library, lambda name: None
import weasyprint
ctypes.util.find_library = lookup
""" + MINIMAL_SCRIPT

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

#: ``import weasyprint``, with the calls that its import makes timed as CPU
#: (this process's and its children's: ``find_library`` runs ldconfig, gcc
#: and ld): one line "name calls seconds" each, and the whole import.
_WEASYPRINT_IMPORT = """
import resource, sys, time
import ctypes.util, cffi
def cpu():
    return sum(getattr(resource.getrusage(who), field)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))
spent = {}
def timed(owner, name):
    original = getattr(owner, name)
    def call(*args, **kwargs):
        began = cpu()
        try:
            return original(*args, **kwargs)
        finally:
            calls, seconds = spent.get(name, (0, 0.0))
            spent[name] = (calls + 1, seconds + cpu() - began)
    setattr(owner, name, call)
timed(ctypes.util, "find_library")
timed(cffi.FFI, "cdef")
began = cpu()
import weasyprint
spent["import weasyprint"] = (1, cpu() - began)
for name, (calls, seconds) in spent.items():
    print(name, calls, seconds)
"""

#: Modules whose import time (from ``-X importtime``) the breakdown shows:
#: (label, module, whether its own time only or with what it imports).
_MODULES = (
    ("weasyprint.text.ffi (cdef parse, dlopen)", "weasyprint.text.ffi", "self"),
    ("weasyprint.html (UA stylesheets parsed)", "weasyprint.html", "self"),
    ("fontTools.subset (fallback subsetter)", "fontTools.subset", "cumulative"),
    ("cffi.cparser + pycparser", "cffi.cparser", "cumulative"),
    ("tinycss2 + cssselect2 + tinyhtml5", ("tinycss2", "cssselect2", "tinyhtml5"),
     "cumulative"),
    ("PIL", "PIL.Image", "cumulative"),
    ("pydyf", "pydyf", "cumulative"),
)


def _run(command: Sequence[str], environ: dict[str, str]) -> None:
    subprocess.run(command, env=environ, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=ROOT)


def _pair(first: Sequence[str], second: Sequence[str], environ: dict[str, str],
          rounds: int) -> tuple[Pair, Pair]:
    """``first`` (A) and ``second`` (B) run in turns: wall time, then CPU time."""
    wall, cpu = alternate_clocks(lambda: _run(first, environ), lambda: _run(second, environ),
                                 rounds=rounds, warmup=1,
                                 clocks=(time.perf_counter, children_cpu))
    return wall, cpu


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _table(label: str, name_a: str, name_b: str, wall: Pair, cpu: Pair,
           target: str = "") -> None:
    _say(header(label, name_a, name_b) + (f"   target: {target}" if target else ""))
    _say(line("  wall time", wall))
    _say(line("  CPU time (process and children)", cpu))


def _alone(label: str, times: Sequence[float], target: str = "") -> None:
    figure = spread(times).scaled(1000)
    _say(f"{label:46} {figure.median:.1f}ms [{figure.low:.1f}–{figure.high:.1f}]"
         + (f"   target: {target}" if target else ""))


def _help(environ: dict[str, str], rounds: int) -> None:
    wall, cpu = _pair([PYTHON, "-c", "import click"], [*NOTEGEN, "--help"],
                      environ, rounds)
    _table("notegen --help", "import click", "notegen --help", wall, cpu, "B/A <= 1.5")


def _validate(environ: dict[str, str], rounds: int) -> None:
    notegen = NOTEGEN
    wall, cpu = _pair([*notegen, "validate", str(CASE)],
                      [*notegen, "validate", "--no-daemon", str(CASE)], environ, rounds)
    _table("notegen validate (worked case), cold", "warm daemon", "in process", wall, cpu,
           "<= 250 ms")


def _minimal(environ: dict[str, str], work: Path, rounds: int) -> None:
    import notegen
    from notegen.template_folders import BUILTIN_FOLDER

    html = work / "note.html"
    html.write_text(notegen.render_html(notegen.load_case(CASE)), encoding="utf-8")
    fonts = {**environ,
             "FONTCONFIG_FILE": str(BUILTIN_FOLDER / "static" / "fonts" / "fonts.conf")}
    minimal = [PYTHON, "-c", MINIMAL_SCRIPT, str(html), f"{BUILTIN_FOLDER.as_uri()}/",
               str(work / "minimal.pdf")]
    cold = [*NOTEGEN, "render", "--no-daemon", "--no-cache", str(CASE),
            "-o", str(work / "cold.pdf")]
    wall, cpu = _pair(minimal, cold, fonts, rounds)
    _table("cold render, no daemon, vs a minimal script", "minimal script", "notegen",
           wall, cpu, "B/A <= 1.10")
    sonames = [PYTHON, "-c", MINIMAL_SONAMES, *minimal[3:]]
    wall, cpu = _pair(sonames, cold, fonts, rounds)
    _table("the same, the script opening WeasyPrint's libraries as notegen does",
           "minimal script", "notegen", wall, cpu)


def _daemon(environ: dict[str, str], work: Path, rounds: int, base: Path | None) -> None:
    notegen = NOTEGEN
    warm_out, cold_out = str(work / "warm.pdf"), str(work / "cold.pdf")
    warm = [*notegen, "render", "--no-cache", str(CASE), "-o", warm_out]
    cold = [*notegen, "render", "--no-cache", "--no-daemon", str(CASE), "-o", cold_out]
    # Between a user's commands the daemon is idle, with a spare child ready
    # (rehearsed): each command here starts once it is, so that neither side
    # shares the machine with the rehearsal. Back to back, a render may find
    # the spare still rehearsing: it then forks, as without one (timed too).
    daemon: list[int] = []
    settled = functools.partial(_spare_ready, environ, daemon=daemon)

    def all_cpu() -> float:  # the command's, and the daemon's and its child's
        return children_cpu() + _on_cpu(daemon)

    wall, cpu, total = alternate_clocks(
        lambda: _run(cold, environ), lambda: _run(warm, environ), rounds=rounds, warmup=1,
        settle=settled, clocks=(time.perf_counter, children_cpu, all_cpu))
    same = Path(warm_out).read_bytes() == Path(cold_out).read_bytes()
    _table("notegen render (--no-cache), cold", "in process", "warm daemon", wall, cpu,
           "B/A <= 0.25")
    _say(f"  same bytes: {same} (the daemon's render is not in B's CPU time)")
    _say(line("  CPU time, with the daemon's and its child's", total))
    back_to_back = measure(lambda: _run(warm, environ), rounds=rounds, warmup=1)
    _alone("  warm daemon, renders back to back", back_to_back)
    if base is None:
        return
    # The base tree renders its own worked case, in process (an older tree
    # may know neither the daemon nor the cache: NOTEGEN_NO_DAEMON and
    # NOTEGEN_CACHE are set for it, and ignored where unknown).
    compileall.compile_dir(base / "notegen", quiet=1)
    old = {**environ, "PYTHONPATH": str(base), "NOTEGEN_NO_DAEMON": "1", "NOTEGEN_CACHE": "0"}
    before = [*NOTEGEN, "render", str(base / CASE.relative_to(ROOT)), "-o",
              str(work / "base.pdf")]
    wall, cpu, total = alternate_clocks(
        lambda: _run(before, old), lambda: _run(warm, environ), rounds=rounds, warmup=1,
        settle=settled, clocks=(time.perf_counter, children_cpu, all_cpu))
    _table(f"the same, against the base tree's cold render ({base.name})", "base, cold",
           "warm daemon", wall, cpu, "B/A <= 0.25")
    _say(line("  CPU time, with the daemon's and its child's", total))


def _spare_ready(environ: dict[str, str], seconds: float = 30.0,
                 daemon: list[int] | None = None) -> None:
    """Wait until the daemon has its spare bounded child ready; the pids of
    the daemon and of that child, into ``daemon`` if given."""
    from notegen.daemon import client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = client.status(environ)
        if found is None or found.get("spare") is not None:
            if daemon is not None and found is not None:
                daemon[:] = [int(found["pid"]), int(found["spare"]["pid"])]
            return
        time.sleep(0.01)


def _on_cpu(pids: Sequence[int]) -> float:
    """The seconds the processes ``pids`` (their main threads) have run on a
    CPU (``/proc/PID/schedstat``, in nanoseconds); a process gone counts 0."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError), \
                open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:
            total += int(stat.read().split()[0])
    return total / 1e9


def _repeat(environ: dict[str, str], work: Path, rounds: int) -> None:
    notegen = NOTEGEN
    out = str(work / "note.pdf")
    _run([*notegen, "render", str(CASE), "-o", out], environ)  # kept now
    wall, cpu = _pair([*notegen, "render", "--no-daemon", str(CASE), "-o", out],
                      [*notegen, "render", str(CASE), "-o", out], environ, rounds)
    _table("notegen render, unchanged input (a cache hit)", "in process", "warm daemon",
           wall, cpu, "B <= 150 ms")
    result = subprocess.run([PYTHON, "-c", _IN_PROCESS, str(CASE), str(rounds)],
                            env=environ, check=True, capture_output=True, text=True, cwd=ROOT)
    _alone("a cache hit in a warm process (best of 5)",
           [float(x) for x in result.stdout.split()], "<= 10 ms")


def _weasyprint(environ: dict[str, str], rounds: int) -> None:
    """What ``import weasyprint`` spends its time on: the CPU of the calls
    its import makes, and the import times of its parts (``-X importtime``,
    wall time: their share, not their CPU)."""
    calls: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    parts: dict[str, list[float]] = {label: [] for label, _, _ in _MODULES}
    totals: list[float] = []
    for _ in range(rounds):
        result = subprocess.run([PYTHON, "-X", "importtime", "-c", _WEASYPRINT_IMPORT],
                                env=environ, check=True, capture_output=True, text=True,
                                cwd=ROOT)
        for row in result.stdout.splitlines():
            name, count, used = row.rsplit(" ", 2)
            calls.setdefault(name, []).append(float(used))
            counts[name] = int(count)
        times = _import_times(result.stderr)
        totals.append(times["weasyprint"][1])
        for label, modules, kind in _MODULES:
            names = (modules,) if isinstance(modules, str) else modules
            parts[label].append(sum(times.get(name, (0.0, 0.0))[kind == "cumulative"]
                                    for name in names))
    _say("import weasyprint (CPU of the process and its children)")
    for name, samples in calls.items():
        _alone(f"  {name} ({counts[name]} calls)" if name != "import weasyprint"
               else f"  {name}", samples)
    whole = statistics.median(totals)
    _say(f"import weasyprint, its parts (-X importtime, wall; whole "
         f"{whole * 1000:.0f} ms)")
    for label, samples in parts.items():
        share = statistics.median(samples) / whole if whole else 0.0
        _alone(f"  {label} ({share:.0%})", samples)


def _import_times(report: str) -> dict[str, tuple[float, float]]:
    """Each module's own and cumulative import time in seconds, from
    ``-X importtime`` output."""
    times: dict[str, tuple[float, float]] = {}
    for row in report.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(\S+)", row)
        if match:
            times[match[3]] = (int(match[1]) / 1e6, int(match[2]) / 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--base", type=Path, help="a source tree whose cold render the "
                        "warm daemon is also paired with (the code before issue 22)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    args = parser.parse_args()
    rounds, only = args.rounds, set(args.only.split(","))
    if only - set(SECTIONS):
        parser.error(f"no such section: {', '.join(sorted(only - set(SECTIONS)))}")
    compileall.compile_dir(ROOT / "notegen", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="ng-bench-", dir="/tmp"))
    (work / "run").mkdir(mode=0o700)
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("NOTEGEN_")}
    environ.update(XDG_RUNTIME_DIR=str(work / "run"), XDG_CACHE_HOME=str(work / "cache"),
                   NOTEGEN_DAEMON_IDLE_MINUTES="30")
    notegen = NOTEGEN
    daemon = bool(only & {"validate", "daemon", "repeat"})
    sections: dict[str, Callable[[], None]] = {
        "help": lambda: _help(environ, rounds),
        "validate": lambda: _validate(environ, rounds),
        "minimal": lambda: _minimal(environ, work, rounds),
        "daemon": lambda: _daemon(environ, work, rounds,
                                  args.base.resolve() if args.base else None),
        "repeat": lambda: _repeat(environ, work, rounds),
        "weasyprint": lambda: _weasyprint(environ, rounds),
    }
    try:
        if daemon:
            subprocess.run([*notegen, "daemon", "start"], env=environ, check=True)
            # Warm the daemon: it renders from its second note on at full speed.
            for _ in range(3):
                _run([*notegen, "render", "--no-cache", str(CASE), "-o",
                      str(work / "warm-up.pdf")], environ)
        _say(f"{rounds} rounds, paired, median [min–max]; machine: {os.cpu_count()} cores, "
             f"load {os.getloadavg()[0]:.2f}")
        for name in SECTIONS:
            if name in only:
                _say()
                sections[name]()
    finally:
        if daemon:
            subprocess.run([*notegen, "daemon", "stop"], env=environ, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
