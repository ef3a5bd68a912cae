"""Paired, alternating measurements for the benchmarks.

On a shared or busy machine two things timed one after the other see
different loads, and a difference of a few percent is noise. Here every
round measures each side once, in turns (A B, then B A, so neither always
goes first), and a comparison is the median of the per-round ratios B/A:
a slow round slows both sides of that round alike and cancels out.

The benchmarks are run as scripts (``python benchmarks/bench_x.py``), which
puts this folder on ``sys.path``; they import this module as ``paired``::

    from paired import alternate, header, line

    pair = alternate(notegen_render, bare_weasyprint, rounds=11, warmup=1)
    print(header("warm render", "notegen", "WeasyPrint"))
    print(line("warm render, PDF/A-3b", pair))

Only the standard library: no benchmark dependency is needed to use it.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The ``notegen`` command as a user runs it: the console script pip
#: installed beside this Python (``python -m notegen`` where there is none,
#: which also loads runpy, some milliseconds more).
_SCRIPT = Path(sys.executable).with_name("notegen")
NOTEGEN = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "notegen"]

__all__ = ["Pair", "Spread", "alternate", "alternate_clocks", "alternate_values",
           "children_cpu", "header", "line", "measure", "pair", "spread"]


@dataclass(frozen=True)
class Spread:
    """The median of some samples with their spread: the quartiles and the
    extremes (with one sample, all five are that sample)."""

    median: float
    q1: float
    q3: float
    low: float
    high: float
    count: int

    def scaled(self, factor: float) -> Spread:
        """The same figures times ``factor`` (seconds to milliseconds, say)."""
        return Spread(self.median * factor, self.q1 * factor, self.q3 * factor,
                      self.low * factor, self.high * factor, self.count)


def spread(samples: Sequence[float]) -> Spread:
    """The median, quartiles and extremes of ``samples`` (at least one)."""
    if not samples:
        raise ValueError("no samples to summarise")
    values = sorted(samples)
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        # "inclusive": the quartiles of the samples themselves, within min-max.
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(statistics.median(values), q1, q3, values[0], values[-1], len(values))


@dataclass(frozen=True)
class Pair:
    """Per-round samples of two sides measured in turns: ``a[i]`` and
    ``b[i]`` were taken in the same round."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.a) != len(self.b) or not self.a:
            raise ValueError(f"a pair needs as many samples of each side, at least one "
                             f"(got {len(self.a)} and {len(self.b)})")

    @property
    def side_a(self) -> Spread:
        return spread(self.a)

    @property
    def side_b(self) -> Spread:
        return spread(self.b)

    @property
    def ratios(self) -> tuple[float, ...]:
        """B/A in each round."""
        return tuple(b / a for a, b in zip(self.a, self.b, strict=True))

    @property
    def ratio(self) -> Spread:
        """The paired ratio B/A: the median of the per-round ratios, with their
        spread (not the ratio of the medians, which pairs nothing)."""
        return spread(self.ratios)


def pair(a: Sequence[float], b: Sequence[float]) -> Pair:
    """A :class:`Pair` from samples taken in turns elsewhere."""
    return Pair(tuple(a), tuple(b))


def alternate_values(*functions: Callable[[], float], rounds: int, warmup: int = 0,
                     swap: bool = True) -> list[list[float]]:
    """Call each function once per round, in turns, and keep what each returns
    (a time it measured itself, a throughput): one list per function, in the
    order given. ``warmup`` rounds run first and are dropped. With ``swap``,
    every other round runs the functions in reverse order, so none always
    runs first (after a cold cache) or last (after the others' garbage)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1 (got {rounds})")
    if warmup < 0:
        raise ValueError(f"warmup cannot be negative (got {warmup})")
    samples: list[list[float]] = [[] for _ in functions]
    for index in range(warmup + rounds):
        order = list(range(len(functions)))
        if swap and index % 2:
            order.reverse()
        measured = {position: functions[position]() for position in order}
        if index >= warmup:
            for position, value in measured.items():
                samples[position].append(value)
    return samples


def alternate(*functions: Callable[[], object], rounds: int, warmup: int = 0,
              swap: bool = True, clock: Callable[[], float] = time.perf_counter) -> Pair:
    """Time two functions in turns (see :func:`alternate_values`), in seconds
    of ``clock``: the first is side A, the second side B."""
    if len(functions) != 2:
        raise ValueError(f"alternate times two functions (got {len(functions)}); "
                         f"use alternate_values for more")

    a, b = alternate_values(*(_timed(function, clock) for function in functions),
                            rounds=rounds, warmup=warmup, swap=swap)
    return pair(a, b)


def alternate_clocks(first: Callable[[], object], second: Callable[[], object], *,
                     rounds: int, warmup: int = 0, swap: bool = True,
                     clocks: Sequence[Callable[[], float]] = (time.perf_counter,),
                     settle: Callable[[], object] | None = None) -> list[Pair]:
    """Time two functions in turns, as :func:`alternate`, on several clocks at
    once: one :class:`Pair` per clock, in the order given. With
    ``(time.perf_counter, children_cpu)``, a command run as a new process is
    timed both as the wall time a user waits and as the CPU time it used,
    which a machine busy with other work inflates far less. ``settle``, if
    given, is called before each timed call, untimed: to wait until work left
    in the background by the call before is done (a daemon idle again), as
    it is between a user's commands."""
    readings: tuple[list[tuple[float, ...]], list[tuple[float, ...]]] = ([], [])

    def timed(function: Callable[[], object], side: int) -> Callable[[], float]:
        def run() -> float:
            if settle is not None:
                settle()
            start = [clock() for clock in clocks]
            function()
            end = [clock() for clock in reversed(clocks)][::-1]
            readings[side].append(tuple(b - a for a, b in zip(start, end, strict=True)))
            return 0.0
        return run

    alternate_values(timed(first, 0), timed(second, 1), rounds=rounds, warmup=warmup,
                     swap=swap)
    a, b = (side[warmup:] for side in readings)
    return [pair([one[index] for one in a], [one[index] for one in b])
            for index in range(len(clocks))]


def children_cpu() -> float:
    """CPU seconds, user and system, that this process's children have used
    and been waited for: a clock for :func:`alternate_clocks` that advances
    only while a timed command's process runs on a CPU."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(function: Callable[[], object], *, rounds: int, warmup: int = 0,
            clock: Callable[[], float] = time.perf_counter) -> tuple[float, ...]:
    """The times of ``function`` over ``rounds`` calls, after ``warmup`` calls
    not kept: one side alone, for a figure that is compared with a target
    rather than with another side."""
    (samples,) = alternate_values(_timed(function, clock), rounds=rounds, warmup=warmup)
    return tuple(samples)


def _timed(function: Callable[[], object], clock: Callable[[], float]) -> Callable[[], float]:
    def run() -> float:
        start = clock()
        function()
        return clock() - start
    return run


def _figure(value: Spread, unit: str, digits: int) -> str:
    return (f"{value.median:.{digits}f}{unit} "
            f"[{value.low:.{digits}f}–{value.high:.{digits}f}]")


def header(label: str, name_a: str, name_b: str, *, width: int = 46) -> str:
    """The column heads for :func:`line`."""
    return (f"{label:{width}} {name_a:>25} {name_b:>25} {name_b + '/' + name_a:>21}\n"
            f"{'':{width}} {'median [min–max]':>25} {'median [min–max]':>25} "
            f"{'median [min–max]':>21}")


def line(label: str, result: Pair, *, unit: str = "ms", scale: float = 1000.0,
         digits: int = 1, width: int = 46) -> str:
    """One table line: each side's median [min–max] (seconds times ``scale``,
    shown in ``unit``) and the paired ratio B/A with its spread."""
    a = _figure(result.side_a.scaled(scale), unit, digits)
    b = _figure(result.side_b.scaled(scale), unit, digits)
    return f"{label:{width}} {a:>25} {b:>25} {_figure(result.ratio, '×', 2):>21}"
