"""The public API is a promise: changing it must be a decision, not an accident."""

import pressqa


def test_exported_names_are_pinned() -> None:
    assert sorted(pressqa.__all__) == sorted(
        [
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
    )
    for name in pressqa.__all__:
        assert hasattr(pressqa, name), name


def test_errors_form_one_tree() -> None:
    for name in [
        "ConfigError",
        "SettingsMismatchError",
        "IngestError",
        "GenerationError",
        "StoreError",
        "ArchiveLockedError",
        "ReleaseNotFoundError",
    ]:
        assert issubclass(getattr(pressqa, name), pressqa.PressQAError)
