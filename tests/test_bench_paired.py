"""The benchmarks' paired measurements (benchmarks/paired.py): the rounds run
in turns, warm-up rounds are dropped, and a comparison is the median of the
per-round ratios, with fake clocks so every figure is known in advance."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable

import pytest

from benchmarks.paired import (
    alternate,
    alternate_clocks,
    alternate_values,
    children_cpu,
    header,
    line,
    measure,
    pair,
    spread,
)


class FakeClock:
    """A clock that moves only when a fake workload says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def work(self, durations: list[float], log: list[str], name: str) -> Callable[[], None]:
        def run() -> None:
            log.append(name)
            self.now += durations.pop(0)
        return run


def test_alternate_swaps_the_order_every_other_round_and_drops_the_warmup() -> None:
    clock, log = FakeClock(), list[str]()
    first = clock.work([9.0, 1.0, 2.0, 3.0], log, "a")
    second = clock.work([9.0, 2.0, 6.0, 3.0], log, "b")

    result = alternate(first, second, rounds=3, warmup=1, clock=clock)

    assert log == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert result.a == (1.0, 2.0, 3.0)
    assert result.b == (2.0, 6.0, 3.0)


def test_measure_times_one_side_after_its_warmup() -> None:
    clock, log = FakeClock(), list[str]()
    assert measure(clock.work([5.0, 1.0, 2.0], log, "a"), rounds=2, warmup=1,
                   clock=clock) == (1.0, 2.0)
    assert log == ["a"] * 3


def test_alternate_clocks_gives_one_pair_per_clock_from_the_same_calls() -> None:
    wall, cpu, log = FakeClock(), FakeClock(), list[str]()

    def work(name: str, seconds: float, busy: float) -> Callable[[], None]:
        def run() -> None:
            log.append(name)
            wall.now += seconds
            cpu.now += busy
        return run

    on_wall, on_cpu = alternate_clocks(work("a", 4.0, 1.0), work("b", 6.0, 3.0), rounds=2,
                                       warmup=1, clocks=(wall, cpu))
    assert log == ["a", "b", "b", "a", "a", "b"]
    assert (on_wall.a, on_wall.b) == ((4.0, 4.0), (6.0, 6.0))
    assert (on_cpu.a, on_cpu.b) == ((1.0, 1.0), (3.0, 3.0))
    assert on_cpu.ratio.median == 3.0


def test_children_cpu_advances_only_with_a_child_that_works() -> None:
    before = children_cpu()
    subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True)
    assert children_cpu() > before


def test_without_swap_the_order_is_always_the_same() -> None:
    log: list[str] = []

    def side(name: str) -> Callable[[], float]:
        def run() -> float:
            log.append(name)
            return 1.0
        return run

    alternate_values(side("a"), side("b"), rounds=3, swap=False)
    assert log == ["a", "b"] * 3


def test_the_ratio_is_the_median_of_the_per_round_ratios_not_of_the_medians() -> None:
    # Round 2 is slow for both sides: pairing cancels it, the medians do not.
    result = pair([1.0, 10.0, 2.0], [1.1, 11.0, 2.2])
    assert result.ratios == pytest.approx((1.1, 1.1, 1.1))
    assert result.ratio.median == pytest.approx(1.1)
    assert result.ratio.low == pytest.approx(1.1)
    assert result.ratio.high == pytest.approx(1.1)

    skewed = pair([1.0, 2.0, 3.0, 4.0], [4.0, 2.0, 3.0, 2.0])
    # Ratios 4, 1, 1, 0.5: median 1, while the medians' ratio is 2.5 / 2.5.
    assert skewed.ratio.median == pytest.approx(1.0)
    assert (skewed.ratio.low, skewed.ratio.high) == pytest.approx((0.5, 4.0))


def test_spread_gives_median_quartiles_and_extremes() -> None:
    figures = spread([5.0, 1.0, 4.0, 2.0, 3.0])
    assert figures.median == 3.0
    assert (figures.low, figures.high) == (1.0, 5.0)
    assert (figures.q1, figures.q3) == (2.0, 4.0)
    assert figures.count == 5
    single = spread([7.0])
    assert (single.median, single.q1, single.q3, single.low, single.high) == (7.0,) * 5
    assert spread([1.0, 2.0]).median == statistics.median([1.0, 2.0])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: spread([]), "no samples"),
    (lambda: pair([1.0], [1.0, 2.0]), "as many samples"),
    (lambda: alternate_values(lambda: 1.0, rounds=0), "at least 1"),
    (lambda: alternate_values(lambda: 1.0, rounds=1, warmup=-1), "negative"),
    (lambda: alternate(lambda: None, rounds=1), "two functions"),
])
def test_bad_use_says_what_is_wrong(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_a_table_line_shows_both_sides_and_the_ratio_with_their_spread() -> None:
    result = pair([0.010, 0.012, 0.011], [0.020, 0.030, 0.022])
    text = line("warm render", result, width=12)
    assert text.split() == ["warm", "render", "11.0ms", "[10.0–12.0]", "22.0ms",
                            "[20.0–30.0]", "2.00×", "[2.00–2.50]"]
    assert "notegen/Typst" in header("case", "Typst", "notegen")
    throughput = line("requests", pair([100.0, 120.0], [50.0, 60.0]), unit="/s", scale=1.0,
                      digits=0)
    assert "110/s [100–120]" in throughput
    assert "0.50× [0.50–0.50]" in throughput
