"""Requests per second of the HTTP service on loopback, with and without
its access log.

    .venv/bin/python benchmarks/bench_service.py [--workers 2] [--seconds 20] [--clients 4]
        [--rounds 2] [--pdf]

Starts the service with --workers twice over, the access log off (the
application made by ``create_app(access_log=False)``) and on (written to a
file, as an operator would), in turns for --rounds rounds so a busy machine
weighs on both alike; each time --clients concurrent clients post the
worked case to /validate and /render?format=html (and with --pdf, to
/render) for --seconds each. Prints each rate, the best of the rounds, and
the ratio on/off.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def without_access_log() -> object:
    """The service's application with no access log (run by uvicorn)."""
    from notegen.service.app import create_app

    return create_app(access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pdf", action="store_true", help="Also measure PDF renders.")
    args = parser.parse_args()

    import notegen
    from notegen.service import new_token

    case = notegen.records.dump.dump_case(notegen.load_case(ROOT / "seeds" / "az-kyiv-2025" /
                                                       "note.yaml"))
    token, entry = new_token("bench", ["drafter"])
    routes = ["/validate", "/render?format=html", *(["/render"] if args.pdf else [])]
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as folder:
        tokens = Path(folder) / "tokens.json"
        tokens.write_text(json.dumps({"tokens": [entry.as_json()]}))
        env = {**os.environ, "NOTEGEN_TOKENS": str(tokens),
               "NOTEGEN_ACCESS_LOG": str(Path(folder) / "access.jsonl"),
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                              os.environ.get("PYTHONPATH", "")])}
        for _ in range(args.rounds):
            for log in ("off", "on"):
                factory = ("bench_service:without_access_log" if log == "off"
                           else "notegen.service:create_app")
                for route, rate in _measure(factory, env, case, token, routes, args).items():
                    sys.stdout.write(f"access log {log:3}  {route:22} {args.workers} workers, "
                                     f"{args.clients} clients: {rate:7.1f} requests/s\n")
                    best[log, route] = max(best.get((log, route), 0.0), rate)
        lines = (Path(folder) / "access.jsonl").read_text().count("\n")
    sys.stdout.write(f"best of {args.rounds} rounds ({lines} access log lines written):\n")
    for route in routes:
        off, on = best["off", route], best["on", route]
        sys.stdout.write(f"  {route:22} off {off:7.1f}/s  on {on:7.1f}/s  on/off "
                         f"{on / off:5.3f}\n")


def _measure(factory: str, env: dict[str, str], case: bytes, token: str,
             routes: list[str], args: argparse.Namespace) -> dict[str, float]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port),
         "--workers", str(args.workers), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        return {route: _hammer(f"{url}{route}", case, headers, args) for route in routes}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _hammer(url: str, body: bytes, headers: dict[str, str], args: argparse.Namespace) -> float:
    done, failed = [0], [0]
    stop = time.perf_counter() + args.seconds

    def client() -> None:
        with httpx.Client(timeout=60) as session:
            session.post(url, content=body, headers=headers)  # warm this worker
            while time.perf_counter() < stop:
                response = session.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    done[0] += 1
                else:
                    failed[0] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed[0]:
        sys.stdout.write(f"  ({failed[0]} requests failed)\n")
    return done[0] / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
