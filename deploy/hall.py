"""One command for a hall: build the store once, start N `streamlit run` replicas and HAProxy in front of them, and
stop the lot on Ctrl-C (or SIGTERM).

    python -m deploy.hall --replicas 4 [--port 8500] [--bind 0.0.0.0] [--pack data/demo] [--db PATH]
                          [--secrets .streamlit/secrets.toml] [--precompute-commits] [--no-build]

Why several processes: one Streamlit process runs every session's scripts on about one core (bench/results.md), so
N cores serve N times the crowd only as N replicas. They share one store file, opened read-only; an editor's commit
through any replica rebuilds it beside the old one and swaps it in with one rename, and every replica notices at
its next script run (analytics/ui.py `_stamp`: the file's inode, mtime and size, checked on every run, reopened
through `_fresh_path`), so the commit reaches the others within one page run. See deploy/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("haproxy.cfg.in")
HAPROXY = "haproxy"
START_TIMEOUT_S = 180.0


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Hall:
    url: str                    # the proxy, as phones reach it
    run_dir: Path               # config, logs, stats socket
    pack: Path
    db: Path
    proxy: subprocess.Popen
    replicas: list[Replica] = field(default_factory=list)

    def stats(self) -> list[dict[str, str]]:
        """HAProxy's `show stat` rows (frontend, each server, backend) as dicts."""
        lines = _socket_command(self.run_dir / "haproxy.sock", "show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        return [dict(zip(header, line.split(","))) for line in lines[1:] if line]

    def sessions_by_replica(self) -> dict[str, int]:
        """Connections HAProxy has sent to each replica since it started (websocket sessions and requests)."""
        return {row["svname"]: int(row["stot"] or 0) for row in self.stats()
                if row["pxname"] == "replicas" and row["svname"] not in ("FRONTEND", "BACKEND")}

    def bytes_out(self) -> int:
        """Bytes the proxy has sent to clients as transferred, since it started. HAProxy counts `bout` before its
        compression filter (measured: bout ≈ the uncompressed size), so what went into the compressor is replaced
        by what came out of it."""
        row = next(r for r in self.stats() if r["pxname"] == "hall" and r["svname"] == "FRONTEND")
        return int(row["bout"]) - int(row["comp_in"] or 0) + int(row["comp_out"] or 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _socket_command(path: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def render_config(bind: str, replicas: list[tuple[str, int]], run_dir: Path) -> str:
    """haproxy.cfg.in with the listening address, the replicas and the run folder filled in."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{port} cookie {name}" for name, port in replicas)
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(bind=bind, servers=servers, run_dir=run_dir)


def prepare_store(pack: Path, db: Path, workers: int | None = None) -> None:
    """Build the store (with every page's first run precomputed) unless it is current: the one writer, before any
    replica starts, so that no replica builds it and none starts cold."""
    from analytics import precompute
    from analytics.build import fingerprint, stored_hash
    if stored_hash(db) == fingerprint(pack) and precompute.is_current(db):
        return
    command = [sys.executable, "-m", "analytics.build", "--pack", str(pack), "--db", str(db)]
    subprocess.run(command + (["--workers", str(workers)] if workers else []), cwd=ROOT, check=True)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, path: str = "/_stcore/health") -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url + path, timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{url} did not become healthy (exit code {process.poll()}):\n{tail}")
        time.sleep(0.25)


async def _first_runs(urls: list[str]) -> None:
    """One run of the home page on each replica before the proxy opens: a process's first script run costs ~2 s
    whatever the page (imports, the store opened, Streamlit's own first-run set-up; measured on the national
    pack, bench/results.md), which the first phone would otherwise wait for. Results come from the store's
    precomputed first runs, so this warms no filter's cache."""
    from bench.stclient import open_page
    runs = await asyncio.gather(*(open_page(url, "/", message_timeout=300, run_timeout=600) for url in urls))
    failed = [f"{url}: {run.errors or run.status}" for url, run in zip(urls, runs) if not run.ok]
    if failed:
        raise RuntimeError(f"a replica's first run failed: {failed}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # each child runs in its own process group
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


@contextmanager
def _started(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield process
    finally:
        _stop(process)


@contextmanager
def hall(replicas: int, pack: Path, db: Path, port: int = 0, bind_host: str = "127.0.0.1",
         script: str = "dashboard.py", streamlit_args: tuple[str, ...] = (), precompute_commits: bool = False,
         run_dir: Path | None = None) -> Iterator[Hall]:
    """The proxy on `bind_host:port` (0: a free port) in front of `replicas` replicas of `script`; everything it
    started is stopped when the block ends. The store must exist (prepare_store), or the first replica builds it."""
    run_dir = Path(run_dir or tempfile.mkdtemp(prefix="reach-hall-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = {**os.environ, "REACH_PACK": str(Path(pack).resolve()), "REACH_DB": str(Path(db).resolve()),
           "PYTHONUNBUFFERED": "1", "REACH_PRECOMPUTE": "1" if precompute_commits else "0"}
    with ExitStack() as stack:
        started = []
        for i in range(1, replicas + 1):
            name, replica_port, log = f"r{i}", free_port(), run_dir / f"replica-r{i}.log"
            command = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(replica_port),
                       "--server.address", "127.0.0.1", "--server.headless", "true", *streamlit_args]
            started.append(Replica(name, replica_port, stack.enter_context(_started(command, log, env)), log))
        for replica in started:  # started together, waited for together: the imports take seconds each
            _wait_healthy(replica.url, replica.process, replica.log)
        asyncio.run(_first_runs([r.url for r in started]))
        config = run_dir / "haproxy.cfg"
        config.write_text(render_config(f"{bind_host}:{port}", [(r.name, r.port) for r in started], run_dir),
                          encoding="utf-8")
        proxy = stack.enter_context(_started([HAPROXY, "-f", str(config), "-db"], run_dir / "haproxy.log", env))
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proxy, run_dir / "haproxy.log", "/_proxy/health")
        yield Hall(url, run_dir, Path(pack), Path(db), proxy, started)


def main(argv: list[str] | None = None) -> int:
    from analytics import config
    parser = argparse.ArgumentParser(prog="python -m deploy.hall", description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=os.cpu_count() or 1, help="one per core (default: all)")
    parser.add_argument("--port", type=int, default=8500, help="the address phones use: http://<host>:PORT")
    parser.add_argument("--bind", default="127.0.0.1", help="0.0.0.0 to accept phones on the venue network")
    parser.add_argument("--pack", type=Path, default=config.pack_dir())
    parser.add_argument("--db", type=Path, default=None, help="store file (default: $REACH_DB or data/<pack>.duckdb)")
    parser.add_argument("--secrets", type=Path, help="a secrets.toml with the editors' accounts")
    parser.add_argument("--precompute-commits", action="store_true",
                        help="an editor's commit also precomputes first runs (minutes on a national pack)")
    parser.add_argument("--no-build", action="store_true", help="use the store as it is")
    args = parser.parse_args(argv)
    db = args.db or config.db_path()
    if not args.no_build:
        prepare_store(args.pack, db)
    extra = ("--secrets.files", str(args.secrets.resolve())) if args.secrets else ()
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    with hall(args.replicas, args.pack, db, args.port, args.bind, streamlit_args=extra,
              precompute_commits=args.precompute_commits) as running:
        print(f"The hall is open at {running.url} ({args.replicas} replicas: "
              f"{', '.join(r.url for r in running.replicas)}; logs in {running.run_dir}). Ctrl-C stops it all.",
              flush=True)
        try:
            while not stop["now"] and running.proxy.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    print("Stopped the proxy and every replica.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
