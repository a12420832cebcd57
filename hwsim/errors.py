"""Errors that carry what went wrong, where, and what is allowed.

The CLI turns any :class:`HwsimError` into one line on stderr and exit status 2; everything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class HwsimError(Exception):
    """Base class: an input the user can fix. ``str(err)`` is the one line the CLI prints."""


class SpecError(HwsimError):
    """A spec file (arch, workload, mapping, sweep space) is malformed or inconsistent.

    Parameters
    ----------
    file : str
        The file (or "<name>" for a built-in / in-memory spec).
    field : str
        Dotted path of the offending field, e.g. ``units.mxu.rows``; empty for the whole file.
    message : str
        What is wrong, including the offending value.
    allowed : str, optional
        What would be accepted.
    """

    def __init__(self, file: str, field: str, message: str, allowed: str | None = None):
        self.file, self.field, self.message, self.allowed = str(file), field, message, allowed
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}: " if self.field else f"{self.file}: "
        tail = f" (allowed: {self.allowed})" if self.allowed else ""
        return f"{where}{self.message}{tail}"


class MappingError(HwsimError):
    """An op cannot be placed on any unit, or a tiling does not fit the buffers."""


class UnsupportedOpError(HwsimError):
    """An engine refuses an op (wrong kind or precision). Mappers catch it and try the next unit."""
