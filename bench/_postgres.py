"""A throwaway PostgreSQL cluster for benches (fsync on, loopback only), or a given server."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit("no PostgreSQL server here: apt-get install -y postgresql, or pass --url")
    return found[-1]


def _as_owner(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def temp_cluster() -> Iterator[str]:
    """Start a cluster in a temp folder on a free loopback port; yield its URL; remove it."""
    bindir = _bin()
    folder = tempfile.mkdtemp(prefix="hearth-bench-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = os.path.join(folder, "data")
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    try:
        subprocess.run(_as_owner([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "hearth",
                                  "-E", "UTF8"]), **quiet)  # type: ignore[call-overload]
        # Default durability (fsync on, synchronous_commit on): the same promise as SQLite FULL.
        subprocess.run(_as_owner([
            f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "start",
            "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=200",
        ]), **quiet)  # type: ignore[call-overload]
        subprocess.run(_as_owner([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port),
                                  "-U", "hearth", "hearth"]), **quiet)  # type: ignore[call-overload]
        yield f"postgresql://hearth@127.0.0.1:{port}/hearth"
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(_as_owner([f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A conninfo whose tables live in a new schema, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield make_conninfo(url, options=f"-csearch_path={schema}")
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    return f"PostgreSQL {row[0] if row else '?'} (fsync {fsync[0] if fsync else '?'})"
