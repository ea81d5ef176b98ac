"""Run a question set against an archive and measure what a careful reader would check."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pressqa.answer.sources import Source
from pressqa.answer.verify import MARKER, Verifier, claims
from pressqa.archive import Archive
from pressqa.eval.metrics import (
    contains_any,
    first_gold_rank,
    is_correct,
    lexical_support,
    list_recall,
    percentile,
)
from pressqa.eval.questions import Question
from pressqa.types import Answer, Citation, Hit

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

# Why an answer failed, in the order they are looked for.
CAUSES = ("not retrieved", "wrong abstention", "retrieved but not answered", "wrong answer", "wrong citation")
RETRIEVAL_DEPTH = 10


@dataclass(slots=True)
class QuestionResult:
    """One question: what came back and the verdict on each measure."""

    id: str
    kind: str
    question: str
    answerable: bool
    answer: str
    abstained: bool
    correct: bool
    gold_rank: int | None  # rank of the first gold release among the top 10 retrieved
    words: int
    list_recall: float | None
    citations: list[dict[str, Any]]
    good_citations: int
    gold_cited: bool
    sentences: int
    supported_by_checker: int
    supported_lexically: int
    crag: int
    seconds: float
    cause: str | None
    retrieved: list[str]
    judge: dict[str, bool | None] = field(default_factory=dict)


@dataclass(slots=True)
class EvalReport:
    """Scores overall and per kind, and every question's result."""

    questions_file: str
    archive: str
    generator: str
    created: str
    overall: dict[str, float | None]
    per_kind: dict[str, dict[str, float | None]]
    results: list[QuestionResult]


def corpus_archive(corpus: Path) -> Path:
    """Where an eval keeps the archive made from ``corpus`` between runs (ingest skips what
    it already holds, so a rerun costs seconds): under $XDG_CACHE_HOME or ~/.cache."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pressqa" / "eval-archives"
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
    return cache / f"{corpus.stem}-{key}"


def run(
    archive: Archive,
    questions: Sequence[Question],
    *,
    llm: LLM | str | None = None,
    judge: LLM | None = None,
    questions_file: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Ask every question, score the answers, and aggregate (see eval/README.md)."""
    results = []
    generator = ""
    archive.search("warm-up")  # the model and indexes load here, outside the timings
    for number, question in enumerate(questions, 1):
        started = time.perf_counter()
        answer = archive.ask(question.question, llm=llm)
        seconds = time.perf_counter() - started
        generator = answer.generator
        assert answer.plan is not None
        hits = archive.search(answer.plan, k=RETRIEVAL_DEPTH)
        results.append(score(archive, question, answer, hits, seconds, judge))
        if progress:
            progress(number, len(questions))
    overall = aggregate(results)
    kinds: dict[str, list[QuestionResult]] = defaultdict(list)
    for result in results:
        kinds[result.kind].append(result)
    return EvalReport(
        questions_file=questions_file,
        archive=str(archive.path),
        generator=generator,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        overall=overall,
        per_kind={kind: aggregate(kinds[kind]) for kind in sorted(kinds)},
        results=results,
    )


def score(
    archive: Archive, question: Question, answer: Answer, hits: Sequence[Hit], seconds: float, judge: LLM | None
) -> QuestionResult:
    gold = set().union(*(archive.group(doc_id) for doc_id in question.evidence)) if question.evidence else set()
    rank = first_gold_rank([{hit.doc_id, *hit.copies} for hit in hits], gold)
    correct = question.answerable and not answer.abstained and is_correct(answer.text, question.answers)
    verdicts = [_citation_good(citation, gold, question) for citation in answer.citations]
    gold_cited = any({citation.doc_id, *citation.copies} & gold for citation in answer.citations)
    checker, lexical, sentences = _support(archive, answer)
    # CRAG-style: +1 right (an abstention is right on an unanswerable question), 0 abstained, -1 wrong.
    crag = (0 if answer.abstained else 1 if correct else -1) if question.answerable else (1 if answer.abstained else -1)
    result = QuestionResult(
        id=question.id,
        kind=question.kind,
        question=question.question,
        answerable=question.answerable,
        answer=answer.text,
        abstained=answer.abstained,
        correct=correct,
        gold_rank=rank,
        words=len(answer.text.split()),
        list_recall=list_recall("" if answer.abstained else answer.text, question.all_answers),
        citations=[
            {
                "number": c.number,
                "doc_id": c.doc_id,
                "title": c.title,
                "date": str(c.date),
                "quote": c.quote,
                "good": good,
            }
            for c, good in zip(answer.citations, verdicts, strict=True)
        ],
        good_citations=sum(verdicts),
        gold_cited=gold_cited,
        sentences=sentences,
        supported_by_checker=checker,
        supported_lexically=lexical,
        crag=crag,
        seconds=seconds,
        cause=None,
        retrieved=[hit.doc_id for hit in hits],
    )
    result.cause = cause_of(result, verdicts)
    if judge is not None and not answer.abstained:
        from pressqa.eval.judge import judge_answer

        result.judge = judge_answer(judge, question, answer)
    return result


def _citation_good(citation: Citation, gold: set[str], question: Question) -> bool:
    """A citation is good when its release is gold (or a copy of one) or its quote states an answer."""
    return bool({citation.doc_id, *citation.copies} & gold) or contains_any(citation.quote, question.answers)


def _support(archive: Archive, answer: Answer) -> tuple[int, int, int]:
    """Answer sentences whose cited quotes support them: by the answerer's own checker,
    and by the independent lexical check; and the number of sentences."""
    if answer.abstained:
        return 0, 0, 0
    by_number = {citation.number: citation for citation in answer.citations}
    checker = lexical = 0
    sentences = claims(answer.text)
    for sentence in sentences:
        cited = [
            by_number[int(n)] for group in MARKER.findall(sentence) for n in group.split(",") if int(n) in by_number
        ]
        statement = MARKER.sub(" ", sentence)
        if any(_checker_supports(archive, statement, citation) for citation in cited):
            checker += 1
        if any(lexical_support(statement, f"{c.quote} {c.title} {c.source or ''} {c.date or ''}") for c in cited):
            lexical += 1
    return checker, lexical, len(sentences)


def _checker_supports(archive: Archive, statement: str, citation: Citation) -> bool:
    hit = Hit(doc_id=citation.doc_id, chunk_id="", title=citation.title, text=citation.quote, start=citation.start,
              end=citation.end, score=0.0, source=citation.source, date=citation.date, url=citation.url)  # fmt: skip
    source = Source.of(1, hit, citation.quote, citation.start)
    return Verifier([source], archive.store.keyword.idf, archive.embedder.embed).support(statement, source) is not None


def cause_of(result: QuestionResult, verdicts: Sequence[bool]) -> str | None:
    """Why a question failed (one of CAUSES), or None when it did not."""
    if not result.answerable:
        return None if result.abstained else "wrong abstention"
    if result.correct:
        return None if all(verdicts) else "wrong citation"
    if result.gold_rank is None and not result.gold_cited:
        return "not retrieved"
    if result.abstained:
        return "wrong abstention"
    return "wrong answer" if result.gold_cited else "retrieved but not answered"


def aggregate(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """The measures over ``results`` (None where no question counts toward one)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    abstained = [r for r in results if r.abstained]
    lists = [r.list_recall for r in answerable if r.list_recall is not None]
    citations = sum(len(r.citations) for r in results)
    sentences = sum(r.sentences for r in results)

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    def hit_at(k: int) -> float | None:
        return share(sum(1 for r in answerable if r.gold_rank is not None and r.gold_rank <= k), len(answerable))

    judged = [r.judge for r in results if r.judge]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "hit@1": hit_at(1),
        "hit@5": hit_at(5),
        "hit@10": hit_at(10),
        "mrr@10": statistics.mean(1 / r.gold_rank if r.gold_rank else 0.0 for r in answerable) if answerable else None,
        "accuracy": share(sum(r.correct for r in answerable), len(answerable)),
        "list_recall": statistics.mean(lists) if lists else None,
        "words_median": statistics.median(r.words for r in answered) if answered else None,
        "words_p90": percentile([r.words for r in answered], 0.9) if answered else None,
        "citation_precision": share(sum(r.good_citations for r in results), citations),
        "citation_recall": share(sum(r.gold_cited for r in answerable), len(answerable)),
        "support_checker": share(sum(r.supported_by_checker for r in results), sentences),
        "support_lexical": share(sum(r.supported_lexically for r in results), sentences),
        "abstention_precision": share(sum(not r.answerable for r in abstained), len(abstained)),
        "abstention_recall": share(sum(r.abstained for r in unanswerable), len(unanswerable)),
        "false_abstention": share(sum(r.abstained for r in answerable), len(answerable)),
        "crag": share(sum(r.crag for r in results), len(results)),
        "latency_p50": percentile([r.seconds for r in results], 0.5),
        "latency_p95": percentile([r.seconds for r in results], 0.95),
        "judge_correct": share(sum(bool(j.get("correct")) for j in judged), len(judged)) if judged else None,
        "judge_faithful": share(sum(bool(j.get("faithful")) for j in judged), len(judged)) if judged else None,
    }
