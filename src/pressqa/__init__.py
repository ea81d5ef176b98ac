"""pressqa: question answering over press-release archives, with citations you can check.

>>> from pressqa import Archive                              # doctest: +SKIP
>>> archive = Archive.open("pressqa-archive")
>>> archive.ingest(["ingest/sample-archive"]).added[:2]
"""

import os

# Nothing in pressqa may reach a model hub or phone home; set before any HF import.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

from pressqa.answer.engine import AnswerStream  # noqa: E402
from pressqa.archive import Archive  # noqa: E402
from pressqa.errors import (  # noqa: E402
    ArchiveLockedError,
    ConfigError,
    GenerationError,
    IngestError,
    PressQAError,
    ReleaseNotFoundError,
    SettingsMismatchError,
    StoreError,
)
from pressqa.ingest.readers import RecordFields  # noqa: E402
from pressqa.settings import Settings  # noqa: E402
from pressqa.types import (  # noqa: E402
    Answer,
    ArchiveStats,
    Chunk,
    Citation,
    DuplicateLink,
    Hit,
    IngestProblem,
    IngestProgress,
    IngestReport,
    QueryPlan,
    Release,
    SearchFilters,
    SyncReport,
    SyncSource,
    TimeSpan,
)

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "AnswerStream",
    "Archive",
    "ArchiveLockedError",
    "ArchiveStats",
    "Chunk",
    "Citation",
    "ConfigError",
    "DuplicateLink",
    "GenerationError",
    "Hit",
    "IngestError",
    "IngestProblem",
    "IngestProgress",
    "IngestReport",
    "PressQAError",
    "QueryPlan",
    "RecordFields",
    "Release",
    "ReleaseNotFoundError",
    "SearchFilters",
    "Settings",
    "SettingsMismatchError",
    "StoreError",
    "SyncReport",
    "SyncSource",
    "TimeSpan",
    "__version__",
]
