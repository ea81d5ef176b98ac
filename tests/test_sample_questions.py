"""The bundled question set (eval/sample-questions.jsonl) against the bundled sample archive.

Retrieval only, for now: for each answerable question, a release that states the answer
must be among the top five search hits (a collapsed copy counts as its original).
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO, SAMPLE_ARCHIVE
from pressqa import Archive
from pressqa.ingest.metadata import file_doc_id

QUESTIONS = REPO / "eval" / "sample-questions.jsonl"


def evidence_ids(evidence: list[str]) -> set[str]:
    """Evidence names files by their path in the sample archive and JSONL records by their id."""
    return {file_doc_id(SAMPLE_ARCHIVE / item) if (SAMPLE_ARCHIVE / item).is_file() else item for item in evidence}


def test_question_set_is_well_formed() -> None:
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    assert len(questions) >= 30
    kinds = {q["kind"] for q in questions}
    assert {"fact", "person", "number", "date", "temporal", "list", "multi", "unanswerable"} <= kinds
    for question in questions:
        assert question["answerable"] == (question["kind"] != "unanswerable")
        assert bool(question["answers"]) == bool(question["evidence"]) == question["answerable"]
        for item in question["evidence"]:
            path = Path(item)
            assert (SAMPLE_ARCHIVE / path).is_file() or "/" not in item, item


def test_gold_release_is_in_the_top_five(sample_archive: Archive) -> None:
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    answerable = [q for q in questions if q["answerable"]]
    missed = []
    for question in answerable:
        hits = sample_archive.search(question["question"], k=5)
        found = {hit.doc_id for hit in hits} | {copy for hit in hits for copy in hit.copies}
        if not found & evidence_ids(question["evidence"]):
            missed.append(question["id"])
    assert len(missed) <= len(answerable) * 0.1, missed
