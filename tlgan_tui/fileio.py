"""Writing files so that a reader never sees half of one: temp file in the same folder + rename."""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

from tlgan_tui.errors import OutputError

NAME_MAX = 255
"""Bytes in one file name on Linux and macOS file systems."""
TEMP_ROOM = 40
"""What a temporary name adds to the final one: '.', '.tlgan-PID-', 8 random characters, '.part'."""
_TEMP = re.compile(r"^\..+\.tlgan-(\d+)-[^.]*\.part$")

_WHY = {
    errno.EROFS: "a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    # /proc, /sys and similar file systems exist but take no new files: the kernel says ENOENT.
    errno.ENOENT: "a special file system such as /proc or /sys, which takes no new files",
}


def _why(error: OSError) -> str:
    return _WHY.get(error.errno or 0) or error.strerror or str(error)


def check_name(path: str | Path) -> None:
    """Refuse a file name too long to write, before any work is done for it."""
    name = Path(path).name
    size = len(os.fsencode(name))
    if size > NAME_MAX - TEMP_ROOM:
        raise OutputError(f"the file name {name[:40]}… is {size} bytes long; at most {NAME_MAX - TEMP_ROOM} can be written")


def check_writable_folder(path: str | Path) -> Path:
    """The folder a file will go to; refused now if it is missing or read-only."""
    path = Path(path)
    try:
        is_folder = path.is_dir()
    except OSError as error:  # a name too long for the file system, say
        check_name(path)
        raise OutputError(f"cannot write {path}: {_why(error)}") from error
    folder = path if is_folder else path.parent
    if not is_folder:
        check_name(path)
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
        raise OutputError(f"output folder is not writable: {folder} ({_why(error)})") from error
    return folder


def _temp_for(path: Path) -> Path:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tlgan-{os.getpid()}-", suffix=".part")
    os.close(fd)
    return Path(temp)


def _write(temp: Path, data: bytes, durable: bool) -> None:
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
    os.chmod(temp, 0o644)


def atomic_write_files(contents: dict[Path, bytes], durable: bool = True) -> list[Path]:
    """Write every file or none: each goes to a temporary name first, and only when all are
    complete are they renamed into place, in the order given (put the one that says the set
    is complete last). A full disk or any other failure leaves the old files as they were.

    `durable=False` skips the fsync: the files are still whole after a crash of the process,
    but a power cut may lose them. For the many files of a batch, whose writer syncs once at
    the end (`sync_files`) before it records them as done."""
    paths = [Path(path) for path in contents]
    for path in paths:
        check_writable_folder(path)
    temps: list[Path] = []
    current = paths[0]
    try:
        for current in paths:
            temps.append(_temp_for(current))
            _write(temps[-1], contents[current], durable)
        for temp, current in zip(temps, paths):
            os.replace(temp, current)
    except OSError as error:
        raise OutputError(f"cannot write {current}: {_why(error)}") from error
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return paths


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = True) -> Path:
    """Write data to path atomically: the file is either absent, the old one, or complete."""
    return atomic_write_files({Path(path): data}, durable)[0]


def sync_files() -> None:
    """Flush every file written without `durable` to disk (one sync instead of one per file)."""
    os.sync()


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files a killed tlgan left in `folder` (those of processes of this
    host that no longer run; a running export's are left alone). Returns what was removed."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match and not process_running(int(match.group(1))):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


def process_running(pid: int) -> bool:
    """Whether a process of this host with this id runs (one of another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
