"""One error tree for pressqa.

::

    PressQAError                  anything pressqa raises on purpose
    ├── ConfigError               bad settings or arguments
    │   └── SettingsMismatchError archive built with other embedding/chunking settings
    ├── IngestError               one input could not be read; carries path and reason
    ├── GenerationError           the language model could not be reached or failed
    └── StoreError                the archive on disk cannot be used as asked
        ├── ArchiveLockedError    another process is writing the archive
        └── ReleaseNotFoundError  no release with that id

A bad input file is never raised out of ``Archive.ingest``: it becomes an
``IngestProblem`` in the report, and the good files of the run are still ingested.
"""

from __future__ import annotations


class PressQAError(Exception):
    """Base of every error pressqa raises on purpose; its message says how to fix it."""


class ConfigError(PressQAError):
    """Settings or arguments that cannot work."""


class SettingsMismatchError(ConfigError):
    """The archive was built with other embedding or chunking settings than those asked for."""


class IngestError(PressQAError):
    """One input (a file, a zip member or a JSONL line) could not be read as a release."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class GenerationError(PressQAError):
    """The language model that writes answers failed (unreachable server, bad reply)."""


class StoreError(PressQAError):
    """The archive on disk cannot be used as asked."""


class ArchiveLockedError(StoreError):
    """Another process holds the archive's write lock."""


class ReleaseNotFoundError(StoreError):
    """No release with the given id is in the archive."""
