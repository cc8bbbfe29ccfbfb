"""JSON from files a user names or is sent (sessions, recipes, JSONL lists, keymaps, axis-file
metadata), read with limits.

Python's json module recurses once per nesting level (100,000 levels raise RecursionError),
turns a 5,000-digit integer into a ValueError of its own, and reads NaN, Infinity and 1e999
as numbers. Every file here is first checked for size and depth and parsed with numbers held
to a sane length and to finite values, so a hostile file is one error of the caller's type.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from tlgan_tui.errors import TlganError

MAX_DEPTH = 32
"""Deeper than any file tlgan writes (a session nests 5 levels) by a wide margin."""
MAX_NUMBER_CHARS = 40
"""Any float's shortest repr (at most 24 characters) and any 64-bit integer fit."""

_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_OPEN = np.frombuffer(b"[{", np.uint8)
_CLOSE = np.frombuffer(b"]}", np.uint8)


class _Refused(ValueError):
    """Raised by the number hooks; carries the reason out of json's scanner."""


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} digits (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"a number too large for a float ({text[:MAX_NUMBER_CHARS]})")
    return value


def _constant(text: str) -> float:
    raise _Refused(f"{text} is not a number JSON allows")


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings do not count)."""
    codes = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "replace"), np.uint8)
    steps = np.isin(codes, _OPEN).astype(np.int32) - np.isin(codes, _CLOSE).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def parse(text: str, source: str, error: type[TlganError], max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `text`, or `error` saying in one line why `source` is not usable JSON."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise error(f"{source} is not usable JSON: nested {depth} levels deep (at most {max_depth})")
    try:
        return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except _Refused as reason:
        raise error(f"{source} is not usable JSON: {reason}") from reason
    except (json.JSONDecodeError, RecursionError, ValueError) as reason:
        raise error(f"{source} is not valid JSON ({reason})") from reason


def read_text(path: str | Path, what: str, error: type[TlganError], max_bytes: int) -> str:
    """A UTF-8 text file of at most `max_bytes`, or `error` saying why it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as failure:
        raise error(f"cannot read {what} {path}: {failure.strerror or failure}") from failure
    if len(data) > max_bytes:
        raise error(f"{what} {path} is larger than {max_bytes // 2**20} MiB: not a file tlgan wrote")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as failure:
        raise error(f"{what} {path} is not UTF-8 text (byte {failure.start})") from failure


def read(path: str | Path, what: str, error: type[TlganError], max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in the file at `path`, read with every limit above."""
    return parse(read_text(path, what, error, max_bytes), str(path), error, max_depth)
