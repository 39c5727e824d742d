"""Files Hearth writes about people (reports, charts, exports): for their owner only."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bot.settings import Settings

#: Folders Hearth makes are private to the service's user, whatever the umask.
FOLDER_MODE = 0o700
#: Files Hearth writes: readable and writable by the service's user only.
FILE_MODE = 0o600
#: What an export file is called (bot/data/exporting.py); its contents name interview ids.
_EXPORT_NAME = re.compile(r"^hearth-.+\.(csv|fhir\.json)$")


def reports_folder(settings: Settings) -> Path:
    """Where reports are written unless told otherwise: beside the database."""
    return settings.database.parent / "reports"


def exports_folder(settings: Settings) -> Path:
    """Where `hearth export` writes unless told otherwise: beside the database."""
    return settings.database.parent / "exports"


def private_folder(folder: Path, *, ours: bool = False) -> Path:
    """Make `folder` (and any missing parents) 0700; return it.

    Every folder made here is 0700 however the umask is set. An existing folder keeps its
    mode unless it is `ours` (reports/ and exports/ beside the database, which an older
    Hearth made 0755): an operator's `--out` folder that already exists is theirs to set.
    """
    missing: list[Path] = []
    at = folder
    while not at.exists():
        missing.append(at)
        at = at.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            path.mkdir(mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is masked by the umask
    if ours:
        os.chmod(folder, FOLDER_MODE)
    return folder


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` as a 0600 file, whole or not at all; return the path.

    The bytes go to a temporary file that is 0600 from its creation (mkstemp), then
    replace `path` in one rename: no moment when the content is readable by others (as a
    chmod after writing would leave), and a file that was 0644 before becomes 0600.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def delete_reports(interview_ids: Iterable[str], folder: Path) -> list[Path]:
    """Delete every file in `folder` about one of `interview_ids`; return what was deleted.

    For erasure. A report's files carry the interview id in their names
    (`<flow>-<id>.html`, `-brain-map.png`, `-timeline.png`: bot/reports.py). An export file
    (`hearth-<flow>-v<n>.csv`, `.fhir.json`) holds many interviews: it is deleted whole if
    any of them is erased, since a copy with the erased rows cut out would be a new export
    nobody asked for (run `hearth export` again). Codebooks name no interview and stay.
    Files in other folders (an operator's own `--out` elsewhere) are the operator's copies:
    docs/security.md says so. A missing folder deletes nothing.
    """
    ids = [i for i in set(interview_ids) if i]
    if not ids or not folder.is_dir():
        return []
    deleted: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        if _names_one(path.name, ids) or _export_mentions(path, ids):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted.append(path)
    return deleted


def _names_one(name: str, ids: list[str]) -> bool:
    # Ids are random and 12+ characters, and a report's stem is "<flow>-<id>", so an id
    # framed by "-" and "." or "-" cannot match another interview's file by accident.
    return any(f"-{i}." in name or f"-{i}-" in name for i in ids)


def _export_mentions(path: Path, ids: list[str]) -> bool:
    if not _EXPORT_NAME.match(path.name) or path.name.endswith("-codebook.csv"):
        return False
    try:
        content = path.read_bytes()
    except OSError:
        return False
    return any(i.encode() in content for i in ids)
