"""Validated flows kept between runs, so `hearth chat` does not re-parse its flow each launch.

Parsing and checking the developmental history takes ~65 ms idle (~95 ms loaded); the
pickled `Flow` loads in ~5 ms. Only flow definitions are kept (text shipped with the
code, never anything a person wrote), in a per-user 0700 folder, as jinja2 keeps its
compiled templates (messages/render.py). An entry is keyed by the file's bytes and the
loader's own source, so an edited flow or a changed schema is parsed afresh; an entry
that does not load is parsed again and rewritten. Without a safe folder, flows load as
before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from functools import cache
from pathlib import Path

import pydantic

import flows.loader
import flows.schema
from flows.loader import load_indexed
from flows.schema import Flow


@cache
def _fingerprint() -> bytes:
    """What a cached flow depends on besides its file: the schema, the loader, the runtime."""
    digest = hashlib.sha256()
    for module in (flows.schema, flows.loader):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(f"{sys.version_info[:3]} {pydantic.VERSION}".encode())
    return digest.digest()


def cache_folder() -> Path | None:
    """This user's private folder for cached flows, or None where none can be trusted."""
    folder = Path(tempfile.gettempdir()) / f"hearth-flows-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        found = folder.lstat()
    except OSError:
        return None
    # Someone else's folder, a link or a folder others may write to could hand us a pickle.
    if (not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid()
            or found.st_mode & 0o077):
        return None
    return folder


def load_cached(key: str, path: Path, folder: Path | None = None) -> Flow:
    """`load_indexed(key, path)`, from the folder's copy when the file is unchanged."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        return load_indexed(key, path)
    text = path.read_bytes()
    name = hashlib.sha256(_fingerprint() + text).hexdigest() + ".pickle"
    entry = folder / name
    with contextlib.suppress(Exception):  # missing, truncated, from another version: parse
        flow = pickle.loads(entry.read_bytes())
        if isinstance(flow, Flow) and flow.key == key:
            return flow
    flow = load_indexed(key, path)
    with contextlib.suppress(OSError):
        partial = folder / f".{name}.{os.getpid()}"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pickle.dumps(flow, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, entry)  # whole or not at all for a reader at the same time
    return flow
