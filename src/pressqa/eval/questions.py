"""Question sets: one JSON object per line (format in eval/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pressqa.errors import ConfigError

KINDS = ("fact", "person", "number", "date", "temporal", "multi", "list", "unanswerable")


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


def load_questions(path: Path) -> list[Question]:
    """Read a question file; a bad line is a ``ConfigError`` naming the file, line and reason."""
    questions: list[Question] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
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
                answers=tuple(str(alias) for alias in record.get("answers", [])),
                evidence=tuple(str(doc_id) for doc_id in record.get("evidence", [])),
                answerable=bool(record.get("answerable", bool(record.get("answers")))),
                kind=str(record.get("kind", "fact")),
                all_answers=tuple(str(item) for item in record.get("all_answers", [])),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"{path}:{number}: not a question record ({type(err).__name__}: {err})") from None
        if question.id in seen:
            raise ConfigError(f"{path}:{number}: question id {question.id!r} appears twice")
        if question.answerable and not question.answers:
            raise ConfigError(f"{path}:{number}: answerable question {question.id!r} has no answers")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise ConfigError(f"{path}: no questions in the file")
    return questions
