"""Issues per second of the register, SQLite and PostgreSQL, on a quiet CPU
and under a CPU load (a busy loop on every core), and how long a writer
waits on a busy register before it gives up.

    .venv/bin/python benchmarks/bench_register.py [--rounds N] [POSTGRESQL_URL]

Without a URL it starts a PostgreSQL of its own on loopback, as the tests
do (if PostgreSQL is installed). Eight writer processes issue 10 notes each
(plain PDF, no embedded records: the register's cost, not PDF/A's), into a
new register each round; SQLite and PostgreSQL take turns over --rounds
rounds (paired.py, default 3): each one's issues per second, median
[min–max], and the paired ratio PostgreSQL/SQLite.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paired import alternate_values, header, line, pair  # noqa: E402

from notegen import RegisterError, load_case, open_register  # noqa: E402
from tests.test_register_load import HOLDER, LOAD, WAITING_ISSUER  # noqa: E402

WRITERS, EACH = 8, 10


def fresh_postgres(url: str) -> str:
    with open_register(url) as register:
        name = f"bench{time.monotonic_ns()}"
        register._connection.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"


def issues_per_second(url: str, draft: Path) -> float:
    with open_register(url):
        pass
    started = time.monotonic()
    workers = [subprocess.Popen([sys.executable, "-c", WAITING_ISSUER, url, str(draft),
                                 str(EACH), f"bench-{i}", "600"], stdout=subprocess.PIPE)
               for i in range(WRITERS)]
    for worker in workers:
        worker.communicate()
        assert worker.returncode == 0
    return WRITERS * EACH / (time.monotonic() - started)


def busy_failure(url: str, draft: Path, wait: float) -> float:
    with open_register(url):
        pass
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url, "notegen"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    holder.stdout.readline()
    started = time.monotonic()
    try:
        with open_register(url, wait=wait) as register:
            register.issue(load_case(draft), issued_by="bench")
    except RegisterError:
        pass
    took = time.monotonic() - started
    holder.kill()
    holder.wait()
    holder.stdout.close()
    return took


def _stop(*_: object) -> None:
    """SIGTERM: leave through the clean-up, which a second SIGTERM (``timeout``
    signals the process and its group) must not interrupt."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(1)


def main() -> None:
    import shutil

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("postgres", nargs="?", metavar="POSTGRESQL_URL",
                        help="a PostgreSQL server to use (default: start one)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="notegen-bench-"))
    shutil.copytree(ROOT / "seeds", folder / "seeds")
    draft = folder / "seeds" / "mx-quito-2024" / "note.yaml"
    postgres = arguments.postgres
    context = None
    if postgres is None:
        from tests import test_register

        context = test_register.postgres.__wrapped__()  # type: ignore[attr-defined]
        postgres = next(context)
    numbers = itertools.count()
    # Stopped (by timeout, say), still stop the PostgreSQL it started.
    signal.signal(signal.SIGTERM, _stop)
    try:
        sys.stdout.write(header(f"{WRITERS}x{EACH} issues, per second", "SQLite",
                                "PostgreSQL") + "\n")
        for label, load in (("quiet", False), ("CPU load", True)):
            spinner = (subprocess.Popen([sys.executable, "-c", LOAD, "600"]) if load
                       else None)
            try:
                sqlite, pg = alternate_values(
                    lambda: issues_per_second(str(folder / f"r-{next(numbers)}.db"), draft),
                    lambda: issues_per_second(fresh_postgres(postgres), draft),
                    rounds=arguments.rounds)
            finally:
                if spinner is not None:
                    spinner.terminate()
                    spinner.wait()
            sys.stdout.write(line(label, pair(sqlite, pg), unit="/s", scale=1.0, digits=2)
                             + "\n")
        for name, url in (("SQLite", str(folder / "busy.db")),
                          ("PostgreSQL", fresh_postgres(postgres))):
            took = busy_failure(url, draft, 5)
            sys.stdout.write(f"busy {name}: wait=5 s, gave up after {took:.2f} s\n")
    finally:
        if context is not None:
            next(context, None)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
