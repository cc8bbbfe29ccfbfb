"""The project's own exceptions: each carries a message a user can act on.

The CLI and the editor show `str(error)` as one line; tracebacks only with --debug.
"""


class TlganError(Exception):
    """Base of every error a user is meant to read."""


class CheckpointError(TlganError):
    """A weights file is missing, corrupt, unsafe, or of another format than expected."""


class AxisFileError(TlganError):
    """An axis file is unreadable or belongs to another generator."""


class UnknownAxisError(TlganError):
    """An axis name the axis set does not have."""


class LockError(TlganError):
    """A move that locking makes impossible (the axis lies in the span of the locked ones)."""


class RecipeError(TlganError):
    """A recipe that is malformed or belongs to another generator or axis set."""


class OutputError(TlganError):
    """An output file or folder that cannot be written."""


class DeviceError(TlganError):
    """A device that was asked for but is not available."""


class MissingExtraError(TlganError):
    """A feature whose optional dependencies are not installed."""


class LabelerError(TlganError):
    """An attribute predictor that is unknown, cannot be loaded, or was given bad input."""


class DiscoveryError(TlganError):
    """A discovery run that cannot go on as asked (settings that clash with its saved work)."""


class DatasetError(TlganError):
    """A data set folder that is missing files or holds malformed ones."""


class SpecError(TlganError):
    """A data set spec that cannot be made (unknown axis, empty range, a mix the locks forbid)."""


class SessionError(TlganError):
    """A session file that cannot be read, or that belongs to another generator."""


class PhotoError(TlganError):
    """A photo that cannot be read, holds no face (or several), or cannot be projected."""


class TeachError(TlganError):
    """Answers an axis cannot be taught from yet (one-sided or contradictory), or a
    labels file that is malformed."""


class AdoptionError(TlganError):
    """Weights said to be a published model they cannot be (another architecture), an unknown
    published model, or an adopted-models file that cannot be read."""
