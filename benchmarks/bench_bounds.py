"""What bounding the render costs: a warm render in process (as before
issue 14, item 4) against the same render in its bounded child.

Two worker processes, each warmed by one render: one renders in process
(``_render_pdf``, the unbounded render), the other through ``render_pdf``
(forked, bounded child). They take turns, one pair at a time, so both see
the same load; each times its own render. Run it alone, not while tests run::

    .venv/bin/python benchmarks/bench_bounds.py [pairs]
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

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


def main(pairs: int = 20) -> None:
    context = multiprocessing.get_context("spawn")
    workers = {}
    for name in ("bare", "bounded"):
        mine, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(name == "bounded", theirs))
        process.start()
        workers[name] = (process, mine)
    outputs = {name: connection.recv() for name, (_, connection) in workers.items()}
    assert outputs["bare"] == outputs["bounded"], "the bounded render changed the bytes"
    times: dict[str, list[float]] = {"bare": [], "bounded": []}
    for pair in range(pairs):
        order = ("bare", "bounded") if pair % 2 == 0 else ("bounded", "bare")
        for name in order:
            connection = workers[name][1]
            connection.send(True)
            seconds, same = connection.recv()
            assert same, f"{name} render {pair} changed the bytes"
            times[name].append(seconds)
    for process, connection in workers.values():
        connection.send(False)
        process.join()
    bare, bounded = (statistics.median(times[name]) for name in ("bare", "bounded"))
    lines = [f"{pairs} alternating pairs, worked case {CASE.parent.name}"]
    for name in ("bare", "bounded"):
        values = times[name]
        lines.append(f"  {name:8} median {statistics.median(values) * 1000:6.1f} ms  "
                     f"min {min(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms")
    lines.append(f"  ratio bounded/bare (medians): {bounded / bare:.3f}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
