"""Writing files so that a reader never sees half of one: temp file in the same folder + rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tlgan_tui.errors import OutputError, TlganError


def check_writable_folder(path: str | Path) -> Path:
    """The folder a file will go to; refused now if it is missing or read-only."""
    folder = Path(path).parent if not Path(path).is_dir() else Path(path)
    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        raise OutputError(f"output folder does not exist: {folder}")
    if not folder.is_dir():
        raise OutputError(f"not a folder: {folder}")
    # Try it rather than ask os.access: root passes every permission check, and some file
    # systems (/proc, read-only mounts) refuse files whatever the permissions say.
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OutputError(f"output folder is not writable: {folder} ({error.strerror or error})") from None
    return folder


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = True) -> Path:
    """Write data to path atomically: the file is either absent, the old one, or complete.

    `durable=False` skips the fsync: the file is still whole after a crash of the process, but
    a power cut may lose it. For the many files of a batch, whose writer syncs once at the end
    (`sync_files`) before it records them as done."""
    path = Path(path)
    folder = check_writable_folder(path)
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"cannot write in {folder}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def sync_files() -> None:
    """Flush every file written without `durable` to disk (one sync instead of one per file)."""
    os.sync()


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def read_user_text(path: str | Path, what: str, error: type[TlganError]) -> str:
    """A text file the user named, or `error` saying in one line why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as failure:
        raise error(f"cannot read {what} {path}: {getattr(failure, 'strerror', None) or failure}") from None
