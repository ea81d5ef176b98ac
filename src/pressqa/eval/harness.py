"""Run a question set against an archive and measure what a careful reader would check."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pressqa.answer.verify import MARKER, claims
from pressqa.archive import Archive
from pressqa.errors import ConfigError
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
    gold: list[str]  # the evidence releases and their copies
    unresolved: list[str]  # evidence that names no release of the archive (left out of retrieval)
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
    retrieved: list[list[str]]  # the top 10 releases, each with its copies
    judge: dict[str, bool | None] = field(default_factory=dict)
    # Timeline questions: share of the evidence releases cited, share of the cited releases
    # that are evidence, and whether the cited releases come in date order.
    timeline_recall: float | None = None
    timeline_precision: float | None = None
    in_date_order: bool | None = None


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
    """Where an eval keeps the archive made from ``corpus`` (under $XDG_CACHE_HOME or
    ~/.cache), named by the corpus's files, sizes and times: a changed corpus gets a new one."""
    if not corpus.exists():
        raise ConfigError(f"no corpus at {corpus}")
    corpus = corpus.resolve()  # one cache whether the path was given relative or absolute
    files = [corpus] if corpus.is_file() else sorted(path for path in corpus.rglob("*") if path.is_file())
    fingerprint = hashlib.sha256(str(corpus).encode())
    for path in files:
        status = path.stat()
        fingerprint.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pressqa" / "eval-archives"
    return cache / f"{corpus.stem}-{fingerprint.hexdigest()[:12]}"


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
    archive.warm_up()  # the model and indexes load here, outside the timings
    for number, question in enumerate(questions, 1):
        started = time.perf_counter()
        answer = archive.ask(question.question, llm=llm, as_of=question.question_date)
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
    groups = {reference: archive.group(reference) for reference in question.evidence}
    gold = set().union(*groups.values())
    retrieved = [[hit.doc_id, *hit.copies] for hit in hits]
    rank = first_gold_rank([set(group) for group in retrieved], gold)
    correct = question.answerable and not answer.abstained and is_correct(answer.text, question.answers)
    if question.over_releases:
        recall, precision, in_order = timeline_scores(answer, groups)
        correct = not answer.abstained and recall == 1.0 and in_order
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
        gold=sorted(gold),
        unresolved=[reference for reference, found in groups.items() if not found],
        gold_rank=rank,
        words=len(answer.text.split()),
        list_recall=list_recall("" if answer.abstained else answer.text, question.all_answers),
        citations=[
            {
                "number": c.number,
                "doc_id": c.doc_id,
                "title": c.title,
                "date": c.date.isoformat() if c.date else None,
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
        retrieved=retrieved,
    )
    if question.over_releases:
        result.timeline_recall, result.timeline_precision, result.in_date_order = recall, precision, in_order
    result.cause = cause_of(result, verdicts)
    if judge is not None and not answer.abstained:
        from pressqa.eval.judge import judge_answer

        result.judge = judge_answer(judge, question, answer)
    return result


def timeline_scores(answer: Answer, groups: dict[str, set[str]]) -> tuple[float, float, bool]:
    """Recall (share of the evidence releases cited, a copy standing for its original),
    precision (share of the cited releases that are evidence) and whether the cited releases
    appear in the text in date order."""
    if answer.abstained:
        return 0.0, 0.0, True
    by_number = {citation.number: citation for citation in answer.citations}
    order = [
        by_number[int(n)] for group in MARKER.findall(answer.text) for n in group.split(",") if int(n) in by_number
    ]
    cited = {citation.doc_id: {citation.doc_id, *citation.copies} for citation in order}
    gold = set().union(*groups.values()) if groups else set()
    found = sum(any(members & group for members in cited.values()) for group in groups.values())
    dates = [citation.date for citation in order if citation.date]
    return (
        found / len(groups) if groups else 0.0,
        sum(bool(members & gold) for members in cited.values()) / len(cited) if cited else 0.0,
        all(earlier <= later for earlier, later in itertools.pairwise(dates)),
    )


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
    # A timeline's summary line is pressqa's count of what it found, not a claim of a release.
    sentences = claims(answer.text.removeprefix(answer.timeline.summary if answer.timeline else ""))
    for sentence in sentences:
        cited = [
            by_number[int(n)] for group in MARKER.findall(sentence) for n in group.split(",") if int(n) in by_number
        ]
        statement = MARKER.sub(" ", sentence)
        if any(archive.citation_holds(statement, citation) for citation in cited):
            checker += 1
        if any(lexical_support(statement, f"{c.quote} {c.title} {c.source or ''} {c.date or ''}") for c in cited):
            lexical += 1
    return checker, lexical, len(sentences)


def cause_of(result: QuestionResult, verdicts: Sequence[bool]) -> str | None:
    """Why a question failed (one of CAUSES), or None when it did not."""
    if not result.answerable:
        return None if result.abstained else "wrong abstention"
    if result.correct:
        return None if all(verdicts) else "wrong citation"
    if result.gold and result.gold_rank is None and not result.gold_cited:
        return "not retrieved"
    if result.abstained:
        return "wrong abstention"
    return "wrong answer" if result.gold_cited else "retrieved but not answered"


def aggregate(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """The measures over ``results`` (None where no question counts toward one)."""
    answerable = [r for r in results if r.answerable]
    with_gold = [r for r in answerable if r.gold]  # retrieval is measured where the evidence is known
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    abstained = [r for r in results if r.abstained]
    lists = [r.list_recall for r in answerable if r.list_recall is not None]
    timelines = [r for r in answerable if r.timeline_recall is not None]
    citations = sum(len(r.citations) for r in results)
    sentences = sum(r.sentences for r in results)

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    def hit_at(k: int) -> float | None:
        return share(sum(1 for r in with_gold if r.gold_rank is not None and r.gold_rank <= k), len(with_gold))

    judged_correct = [r.judge["correct"] for r in results if r.judge.get("correct") is not None]
    judged_faithful = [r.judge["faithful"] for r in results if r.judge.get("faithful") is not None]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "hit@1": hit_at(1),
        "hit@5": hit_at(5),
        "hit@10": hit_at(10),
        "mrr@10": statistics.mean(1 / r.gold_rank if r.gold_rank else 0.0 for r in with_gold) if with_gold else None,
        "accuracy": share(sum(r.correct for r in answerable), len(answerable)),
        "list_recall": statistics.mean(lists) if lists else None,
        "timeline_recall": statistics.mean(r.timeline_recall or 0.0 for r in timelines) if timelines else None,
        "timeline_precision": statistics.mean(r.timeline_precision or 0.0 for r in timelines) if timelines else None,
        "in_date_order": share(sum(bool(r.in_date_order) for r in timelines), len(timelines)),
        "words_median": statistics.median(r.words for r in answered) if answered else None,
        "words_p90": percentile([r.words for r in answered], 0.9) if answered else None,
        "citation_precision": share(sum(r.good_citations for r in results), citations),
        "citation_recall": share(sum(r.gold_cited for r in with_gold), len(with_gold)),
        "support_checker": share(sum(r.supported_by_checker for r in results), sentences),
        "support_lexical": share(sum(r.supported_lexically for r in results), sentences),
        "abstention_precision": share(sum(not r.answerable for r in abstained), len(abstained)),
        "abstention_recall": share(sum(r.abstained for r in unanswerable), len(unanswerable)),
        "false_abstention": share(sum(r.abstained for r in answerable), len(answerable)),
        "crag": share(sum(r.crag for r in results), len(results)),
        "latency_p50": percentile([r.seconds for r in results], 0.5),
        "latency_p95": percentile([r.seconds for r in results], 0.95),
        # Verdicts the judge gave (a reply that is neither yes nor no is left out).
        "judge_correct": share(sum(map(bool, judged_correct)), len(judged_correct)),
        "judge_faithful": share(sum(map(bool, judged_faithful)), len(judged_faithful)),
    }
