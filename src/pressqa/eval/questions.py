"""Question sets: one JSON object per line (format in eval/README.md)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from pressqa.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Question:
    """A question with its gold answers (aliases) and the releases that state them."""

    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    answerable: bool
    kind: str
    all_answers: tuple[str, ...] = ()
    # The day the question is asked as of ("this week" is read against it; later releases
    # are left out).
    question_date: dt.date | None = None

    @property
    def over_releases(self) -> bool:
        """A timeline question: its answer is the releases of ``evidence``, in date order."""
        return self.kind == "timeline"


def load_questions(path: Path) -> list[Question]:
    """Read a question file; a bad line is a ``ConfigError`` naming the file, line and reason."""
    questions: list[Question] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a byte-order mark is no record
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the question file ({err})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = Question(
                id=str(record["id"]),
                question=str(record["question"]),
                answers=_strings(record, "answers"),
                evidence=_strings(record, "evidence"),
                answerable=_boolean(record, "answerable", default=bool(record.get("answers"))),
                kind=str(record.get("kind") or ("fact" if record.get("answers") else "unanswerable")),
                all_answers=_strings(record, "all_answers"),
                question_date=dt.date.fromisoformat(record["question_date"]) if record.get("question_date") else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"{path}:{number}: not a question record ({type(err).__name__}: {err})") from None
        if question.id in seen:
            raise ConfigError(f"{path}:{number}: question id {question.id!r} appears twice")
        if question.answerable and not question.answers and not question.over_releases:
            raise ConfigError(f"{path}:{number}: answerable question {question.id!r} has no answers")
        if question.over_releases and not question.evidence:
            raise ConfigError(f"{path}:{number}: timeline question {question.id!r} has no evidence releases")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise ConfigError(f"{path}: no questions in the file")
    return questions


def _strings(record: dict[str, object], key: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{key!r} must be a list of strings, not {value!r}")
    return tuple(value)


def _boolean(record: dict[str, object], key: str, *, default: bool) -> bool:
    value = record.get(key, default)
    if not isinstance(value, bool):
        raise TypeError(f"{key!r} must be true or false, not {value!r}")
    return value
