"""Requests per second of the HTTP service's render, on loopback.

    .venv/bin/python benchmarks/bench_service.py [--workers 2] [--seconds 20] [--clients 4]

Starts ``notegen serve`` with --workers, then --clients concurrent clients
post the worked case to /render (PDF, then HTML) for --seconds each.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    import notegen
    from notegen.service import new_token

    case = notegen.records.dump.dump_case(notegen.load_case(ROOT / "seeds" / "az-kyiv-2025" /
                                                       "note.yaml"))
    token, entry = new_token("bench", ["drafter"])
    with tempfile.TemporaryDirectory() as folder:
        tokens = Path(folder) / "tokens.json"
        tokens.write_text(json.dumps({"tokens": [entry]}))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "notegen", "serve", "--port", str(port), "--workers",
             str(args.workers)], env={**os.environ, "NOTEGEN_TOKENS": str(tokens)})
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{url}/openapi.json", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            headers = {"Authorization": f"Bearer {token}"}
            for fmt in ("pdf", "html"):
                rate = _hammer(f"{url}/render?format={fmt}", case, headers, args)
                sys.stdout.write(f"render {fmt:4}, {args.workers} workers, {args.clients} "
                                 f"clients: {rate:6.1f} requests/s\n")
        finally:
            server.terminate()
            server.wait(timeout=10)


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
