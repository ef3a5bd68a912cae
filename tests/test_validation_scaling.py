"""Validation grows linearly with the records (issue 22): loading and
wording a case of 2,000 incidents costs about ten times one of 200, not more.

The bound is generous (20 times, best of five runs each, taking turns) so
that a busy machine cannot fail it; benchmarks/bench_validate.py measures the ratio
itself (target at most 11)."""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

import pytest

import notegen
from notegen.records import collector
from notegen.records.models import Note
from notegen.wording.prepare import prepare

from .catalogue_factory import synthetic_rows, write_case
from .conftest import CATALOGUE


def _seconds(case_file: Path) -> float:
    began = time.perf_counter()
    prepare(notegen.load_case(case_file))
    return time.perf_counter() - began


@pytest.mark.logs  # the synthetic notes' legal warnings are not what is tested
def test_validation_grows_linearly(tmp_path: Path) -> None:
    small = write_case(tmp_path / "small", synthetic_rows(200), catalogue=False,
                       earlier="all")
    large = write_case(tmp_path / "large", synthetic_rows(2000), catalogue=False,
                       earlier="all")
    logging.getLogger("notegen").setLevel(logging.ERROR)
    try:
        assert len(notegen.load_case(large).note.earlier) > 1900
        _seconds(small)  # first-use setup (catalogues, fonts) is not validation
        # Taking turns, so that a busy spell slows both; the best of each.
        times = [(_seconds(small), _seconds(large)) for _ in range(5)]
        ratio = min(large for _, large in times) / min(small for small, _ in times)
    finally:
        logging.getLogger("notegen").setLevel(logging.NOTSET)
    assert ratio <= 20, f"2,000 incidents took {ratio:.1f} times 200"


def test_a_long_chronology_is_checked_for_repeats_in_linear_time() -> None:
    ids = [f"inc-{number:05d}" for number in range(50_000)]
    base = {"date": "2025-01-01", "sender": "a", "addressee": "b", "subject": "s",
            "protest": "protest", "demands": [{"kind": "investigation"}]}
    began = time.perf_counter()
    Note.model_validate({**base, "earlier": ids})
    assert time.perf_counter() - began < 2  # quadratic: minutes
    with pytest.raises(ValueError, match="listed more than once: inc-00007, inc-00009"):
        Note.model_validate({**base, "earlier": [*ids[:10], "inc-00009", "inc-00007"]})


def test_the_collector_is_held_off_only_while_records_are_read(seed_copy: Path) -> None:
    seen: list[bool] = []
    with collector.paused():
        seen.append(gc.isenabled())
    assert seen == [False]
    assert gc.isenabled()
    (seed_copy / CATALOGUE / "incidents.yaml").write_text("incidents: [", encoding="utf-8")
    with pytest.raises(notegen.RecordError):
        notegen.load_case(seed_copy / "note.yaml")
    assert gc.isenabled()
    gc.disable()  # a caller's own choice is left alone
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
