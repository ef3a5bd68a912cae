"""What bounding the render costs: a warm render in process (as before
issue 14, item 4) against the same render in its bounded child.

Two worker processes, each warmed by one render: one renders in process
(``_render_pdf``, the unbounded render), the other through ``render_pdf``
(forked, bounded child). They take turns (paired.py: the order swapped every
round), so both see the same load; each times its own render. Prints each
one's median [min–max] and the paired ratio bounded/bare, the median of the
per-round ratios. Run it alone, not while tests run::

    .venv/bin/python benchmarks/bench_bounds.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from paired import alternate_values, header, line, pair

CASE = Path(__file__).resolve().parent.parent / "seeds" / "az-kyiv-2025" / "note.yaml"


def _worker(bounded: bool, connection: Connection) -> None:
    import notegen
    from notegen.options import settle
    from notegen.render.pdf import _render_pdf

    case = notegen.load_case(CASE)
    options = settle(case)

    def render() -> bytes:
        if bounded:
            return notegen.render_pdf(case, options=options)
        return _render_pdf(case, options, None)

    first = render()
    render()  # a process warms itself from its second render on
    connection.send(first)
    while connection.recv():
        began = time.perf_counter()
        pdf = render()
        connection.send((time.perf_counter() - began, pdf == first))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds")
    rounds = parser.parse_args().rounds
    context = multiprocessing.get_context("spawn")
    workers = {}
    for name in ("bare", "bounded"):
        mine, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(name == "bounded", theirs))
        process.start()
        workers[name] = (process, mine)
    outputs = {name: connection.recv() for name, (_, connection) in workers.items()}
    assert outputs["bare"] == outputs["bounded"], "the bounded render changed the bytes"

    def ask(name: str) -> float:
        connection = workers[name][1]
        connection.send(True)
        seconds, same = connection.recv()
        assert same, f"a {name} render changed the bytes"
        return float(seconds)

    bare, bounded = alternate_values(lambda: ask("bare"), lambda: ask("bounded"),
                                     rounds=rounds)
    for process, connection in workers.values():
        connection.send(False)
        process.join()
    lines = [f"{rounds} alternating rounds, worked case {CASE.parent.name}",
             header("", "bare", "bounded"),
             line("warm render (PDF/A-3b, records)", pair(bare, bounded))]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
