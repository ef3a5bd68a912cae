"""Ten notes at once: ``notegen batch -j2`` against LibreOffice converting the
same ten notes from .docx in one call (issue 22: the batch must be faster).

The ten notes are copies of the worked case with their own numbers and
dates, made in a scratch folder; their .docx are notegen's own
(``render --format docx``). Each round times, as new processes, in turns
(the order reversed every other round, so none always runs first):

- ``notegen batch CASES -o OUT -j2``: workers forked from a server that has
  imported notegen and WeasyPrint and rendered a note (warm workers);
- ``soffice --headless --convert-to pdf --outdir OUT *.docx``, in a profile
  of the benchmark's own, made in a round that is not counted;
- ``notegen batch -j1``: every note in the command's own process;
- the previous way, cold workers: forked from a server that has only
  imported WeasyPrint, each paying its first note's setup itself;
- ``notegen batch -j2`` handed to the warm daemon (started beforehand, in a
  runtime folder of the benchmark's own, and stopped at the end), which
  runs it in a process forked from itself and forks the workers from that.

Every other command runs in process (``NOTEGEN_NO_DAEMON=1``); none uses
the output cache: each renders every note. Each figure is the median over the
rounds with its spread (min-max); a ratio is the median of the per-round
ratios (:mod:`paired`). The PDFs of the warm and the cold workers and of
``-j1`` are checked to be the same bytes::

    .venv/bin/python benchmarks/bench_batch.py [--rounds 5] [--notes 10]

Run it alone: on a machine shared with other work the figures mislead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from paired import NOTEGEN, alternate_values, header, line, pair, spread

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "az-kyiv-2025"
PYTHON = sys.executable

#: The batch as it was before its server warmed up: workers forked from a
#: server that has only imported WeasyPrint, rendering as the batch does.
COLD_WORKERS = """
import gc, multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from notegen.batch import _render_one, _target, find_cases
from notegen.options import RenderOptions
from notegen.render.pdf import isolate_fonts
source, out, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
base, cases = find_cases(source)
isolate_fonts()
context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(["weasyprint"])
options = RenderOptions()
with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=gc.freeze) as pool:
    futures = []
    for case in cases:
        target = _target(case, base, __import__("pathlib").Path(out), "pdf")
        target.parent.mkdir(parents=True, exist_ok=True)
        futures.append(pool.submit(_render_one, case, target, options, "pdf"))
    failed = [f.result().error for f in futures if f.result().error]
if failed:
    sys.exit("\\n".join(failed))
"""


def make_cases(folder: Path, count: int) -> Path:
    """``count`` copies of the worked case under ``folder / "cases"``, each
    with its own reference and date, naming the one catalogue beside them;
    the profiles beside them too."""
    cases = folder / "cases"
    for shared in ("profiles", "az-mfa-catalogue"):
        shutil.copytree(ROOT / "seeds" / shared, folder / shared)
    for index in range(count):
        copy = Path(shutil.copytree(SEED, cases / f"note-{index:02d}"))
        note = copy / "note.yaml"
        text = note.read_text(encoding="utf-8").replace(
            "catalogue: ../", "catalogue: ../../").replace("- ../profiles/", "- ../../profiles/")
        original = "  reference: 12/345/2025\n  date: 2025-11-14\n"
        if original not in text:
            raise SystemExit(f"{SEED / 'note.yaml'} changed: cannot number its copies")
        note.write_text(text.replace(original, (
            f"  reference: 12/{400 + index}/2025\n"
            f"  date: 2025-{11 + index // 28:02d}-{15 + index % 14:02d}\n")), encoding="utf-8")
    return cases


def run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n"
                         f"{result.stderr[-2000:]}")


def timed(command: Callable[[], None]) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter()
        command()
        return time.perf_counter() - start
    return measure


def wait_warm(env: dict[str, str], seconds: float = 300.0) -> None:
    """Wait until the daemon has warmed up (``notegen daemon status``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = subprocess.run([*NOTEGEN, "daemon", "status"], env=env,
                                capture_output=True, text=True, check=False)
        if ", warm," in status.stdout:
            return
        time.sleep(0.5)
    raise SystemExit("the daemon did not warm up")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--notes", type=int, default=10)
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is not installed: apt-get install "
                         "libreoffice-writer-nogui")
    env = {**os.environ, "NOTEGEN_NO_DAEMON": "1", "NOTEGEN_CACHE": "0"}
    # (A short runtime folder: a socket's path is limited.)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as name, \
            tempfile.TemporaryDirectory(prefix="ngb-", dir="/tmp") as runtime:
        scratch = Path(name)
        daemon_env = {**env, "XDG_RUNTIME_DIR": runtime}
        del daemon_env["NOTEGEN_NO_DAEMON"]
        cases = make_cases(scratch, args.notes)
        docx = scratch / "docx"
        docx.mkdir()
        for note in sorted(cases.glob("*/note.yaml")):
            run([*NOTEGEN, "render", str(note), "--format", "docx",
                 "-o", str(docx / f"{note.parent.name}.docx")], env)
        profile = f"-env:UserInstallation={(scratch / 'lo-profile').as_uri()}"

        def notegen_batch(jobs: int) -> Callable[[], None]:
            return lambda: run([*NOTEGEN, "batch", str(cases), "-o",
                                str(fresh(scratch / f"out-j{jobs}")), "-j", str(jobs)], env)

        def through_daemon() -> None:
            run([*NOTEGEN, "batch", str(cases), "-o",
                 str(fresh(scratch / "out-daemon")), "-j", "2"], daemon_env)

        def cold_workers() -> None:
            run([PYTHON, "-c", COLD_WORKERS, str(cases), str(fresh(scratch / "out-cold")),
                 "2"], env)

        def libreoffice() -> None:
            run([soffice, profile, "--headless", "--convert-to", "pdf", "--outdir",
                 str(fresh(scratch / "out-lo")), *map(str, sorted(docx.glob("*.docx")))], env)

        sides = {"batch -j2 (warm workers)": notegen_batch(2),
                 "LibreOffice, .docx in one call": libreoffice,
                 "batch -j1": notegen_batch(1),
                 "batch -j2, cold workers (before)": cold_workers,
                 "batch -j2 through the warm daemon": through_daemon}
        run([*NOTEGEN, "daemon", "start"], daemon_env)
        try:
            wait_warm(daemon_env)
            samples = alternate_values(*(timed(side) for side in sides.values()),
                                       rounds=args.rounds, warmup=1)
        finally:
            run([*NOTEGEN, "daemon", "stop"], daemon_env)
        made = {label: sorted((scratch / out).rglob("*.pdf")) for label, out in (
            ("-j2", "out-j2"), ("-j1", "out-j1"), ("cold", "out-cold"), ("lo", "out-lo"),
            ("daemon", "out-daemon"))}
        if any(len(files) != args.notes for files in made.values()):
            raise SystemExit(f"not every note was made: {made}")
        differ = [label for label in ("-j1", "cold", "daemon")
                  if [p.read_bytes() for p in made[label]] != [
                      p.read_bytes() for p in made["-j2"]]]

    by_label = dict(zip(sides, samples, strict=True))
    say(f"{args.notes} notes, {args.rounds} rounds in turns, on {os.cpu_count()} cores; "
          "seconds, median [min-max]")
    for label, values in by_label.items():
        summary = spread(values)
        say(f"  {label:36} {summary.median:6.2f} s [{summary.low:.2f}–{summary.high:.2f}]"
              f"  {args.notes / summary.median:5.1f} notes/s")
    warm = by_label["batch -j2 (warm workers)"]
    say()
    say(header("paired, against batch -j2 (warm workers)", "batch -j2", "other"))
    for label, values in by_label.items():
        if values is not warm:
            say(line(label, pair(warm, values), unit=" s", scale=1.0, digits=2))
    libreoffice = by_label["LibreOffice, .docx in one call"]
    say()
    say(header("paired, against LibreOffice", "LibreOffice", "batch -j2"))
    say("target (batch -j2 faster than LibreOffice on the same notes):")
    for label in ("batch -j2 (warm workers)", "batch -j2 through the warm daemon"):
        result = pair(libreoffice, by_label[label])
        verdict = "met" if result.ratio.median < 1 else "NOT met"
        say(line(f"  {label.removeprefix('batch -j2 ').strip('()')}: {verdict}", result,
                 unit=" s", scale=1.0, digits=2))
    if differ:  # (notegen's files edited while it ran, or a bug)
        raise SystemExit(f"batch {', '.join(differ)} made other bytes than batch -j2")
    say("same bytes from -j2, -j1, cold workers and the daemon")


if __name__ == "__main__":
    main()
