"""Issues per second of the register, SQLite and PostgreSQL, on a quiet CPU
and under a CPU load (a busy loop on every core), and how long a writer
waits on a busy register before it gives up.

    .venv/bin/python benchmarks/bench_register.py [POSTGRESQL_URL]

Without a URL it starts a PostgreSQL of its own on loopback, as the tests
do (if PostgreSQL is installed). Eight writer processes issue 10 notes each
(plain PDF, no embedded records: the register's cost, not PDF/A's).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="notegen-bench-"))
    shutil.copytree(ROOT / "seeds", folder / "seeds")
    draft = folder / "seeds" / "mx-quito-2024" / "note.yaml"
    postgres = sys.argv[1] if len(sys.argv) > 1 else None
    context = None
    if postgres is None:
        from tests import test_register

        context = test_register.postgres.__wrapped__()  # type: ignore[attr-defined]
        postgres = next(context)
    try:
        for label, load in (("quiet", False), ("CPU load", True)):
            spinner = (subprocess.Popen([sys.executable, "-c", LOAD, "600"]) if load
                       else None)
            try:
                sqlite = issues_per_second(str(folder / f"r-{load}.db"), draft)
                pg = issues_per_second(fresh_postgres(postgres), draft)
            finally:
                if spinner is not None:
                    spinner.terminate()
                    spinner.wait()
            sys.stdout.write(f"{label:9} {WRITERS}x{EACH} issues: SQLite {sqlite:.1f}/s, "
                             f"PostgreSQL {pg:.1f}/s\n")
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
