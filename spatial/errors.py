"""One exception hierarchy for CityFrame's engine.

Every error carries a message a user can act on: it names the file, layer,
row, column or JSON key involved.  ``main.py`` turns a :class:`CityFrameError`
into a message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

__all__ = [
    "CityFrameError",
    "CRSError",
    "DataImportError",
    "SchemaError",
    "WorkspaceError",
    "Canceled",
]


class CityFrameError(Exception):
    """Base class of every error CityFrame raises on purpose."""


class CRSError(CityFrameError, ValueError):
    """A coordinate reference system is unknown, missing or unsuitable."""


class DataImportError(CityFrameError, ValueError):
    """A file could not be imported; the message names file, layer and row."""


class SchemaError(CityFrameError, ValueError):
    """Data does not follow the framework schema."""


class WorkspaceError(CityFrameError):
    """A workspace file could not be opened or saved."""


class Canceled(CityFrameError):
    """The user canceled a long-running operation."""
