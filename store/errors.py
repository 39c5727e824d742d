"""The errors the store raises, the same on SQLite and PostgreSQL.

Callers never see `sqlite3.Error` or `psycopg.Error`: each back end translates what its
driver raised at the boundary (`run`, `read`), so the service decides what to tell a
person from the store's own words, whichever database sits behind it.
"""

from __future__ import annotations


class StoreError(Exception):
    """Anything the store could not do; the message says why and, where it can, what to do."""


class OpenFailed(StoreError):
    """The database could not be opened, created, migrated, or its data key is wrong."""


class StepNotSaved(StoreError):
    """A step was rolled back whole: nothing of it was saved and its delivery not recorded.

    Sending the same event again is safe (and is what a person is asked to do).
    """


class Unavailable(StepNotSaved):
    """The database was locked past its timeout, full, unreachable, or failed to write."""


class Conflict(StepNotSaved):
    """A write broke a constraint (a second delivery with the same key, a race lost)."""


def translate(exc: BaseException) -> BaseException:
    """The store's own error for a driver error that ended a step; anything else as it is.

    Both back ends speak sqlite3's exception classes inside (store/pgconn.py maps
    psycopg's onto them), so this one mapping serves both at their boundary.
    """
    import sqlite3  # the stdlib module: cheap, and only this function needs it

    if isinstance(exc, sqlite3.IntegrityError):
        error: StepNotSaved = Conflict(str(exc))
    elif isinstance(exc, sqlite3.Error):
        error = Unavailable(str(exc))
    else:
        return exc
    error.__cause__ = exc
    return error
