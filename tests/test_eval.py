"""The eval harness: metric traps on hand-made cases, the bundled set over the sample
archive (thresholds the current system meets), and `pressqa eval` end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, SAMPLE_ARCHIVE
from llm_server import serving
from pressqa import Archive, ConfigError
from pressqa.cli import main
from pressqa.eval import load_questions, run
from pressqa.eval.harness import aggregate, cause_of, corpus_archive
from pressqa.eval.metrics import (
    contains,
    first_gold_rank,
    is_correct,
    lexical_support,
    list_recall,
    percentile,
    stuffed,
)
from pressqa.llms.backends import load_llm

SAMPLE_QUESTIONS = REPO / "eval" / "sample-questions.jsonl"


@pytest.mark.parametrize(
    ("text", "alias", "found"),
    [
        ("The penalty was $4.9 billion.", "4.9 billion", True),
        ("The penalty was 4.9 billion dollars.", "$4.9 billion", True),
        ("The cache held 1,540 pounds of opium.", "1540 pounds", True),
        ("The cache held 1540 pounds of opium.", "1,540 pounds", True),
        ("He was sentenced to 13 years.", "3", False),  # token boundaries
        ("He was sentenced to 3 years.", "3", True),
        ("It cost $4.95 billion.", "4.9 billion", False),
        ("Mullah Abdul Rahman was arrested Oct. 19.", "Oct. 19", True),
        ("Signed on March 6, 2012, in Houston.", "march 6 2012", True),
        ("Hachette Book Group (USA) settled.", "Hachette Book Group", True),
        ("HarperCollins settled.", "Hachette", False),
        ("Recoveries reached 4.90 billion.", "$4.9 billion", True),
        ("Unemployment rose 12.5% in May.", "12.5 percent", True),
        ("It rose 12.5 million.", "12.5%", False),
        ("The temperature fell to -5 degrees.", "5 degrees", False),
        ("Möller was charged.", "Müller", False),
        ("Müller was charged.", "Muller", True),
        ("Vostok-2021 ended in 2021.", "Запад-2021", False),
        ("Учения Запад-2021 прошли в сентябре.", "Запад-2021", True),
    ],
)
def test_an_alias_is_found_on_word_boundaries_whatever_the_number_format(text: str, alias: str, found: bool) -> None:
    assert contains(text, alias) is found


def test_an_answer_stuffed_with_candidate_numbers_is_not_right() -> None:
    stuffing = "The count was " + ", ".join(str(number) for number in range(1, 40)) + "."
    assert contains(stuffing, "17") and stuffed(stuffing) and not is_correct(stuffing, ["17"])
    sentence = "On May 5, 2012, 17 people were charged in 3 states, with 12 counts and $4.5 million in fraud."
    assert not stuffed(sentence) and is_correct(sentence, ["17"])


def test_ranks_lists_percentiles_and_the_independent_support_check() -> None:
    assert first_gold_rank([{"a"}, {"b", "b-copy"}, {"c"}], {"b-copy"}) == 2
    assert first_gold_rank([{"a"}], {"z"}) is None
    assert list_recall("Hachette, HarperCollins and Macmillan", ["Hachette", "HarperCollins", "Simon & Schuster"]) == (
        pytest.approx(2 / 3)
    )
    assert list_recall("anything", []) is None
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3 and percentile([1, 2, 3, 4, 100], 0.95) == 100
    assert lexical_support("Russian troops joined the exercise in Ningxia [1]", "Russian troops traveled to Ningxia")
    assert not lexical_support("Budget talks collapsed in Brussels", "Russian troops traveled to Ningxia")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "q", "question": "?", "answers": "ZAPAD", "answerable": true}', "'answers' must be a list of strings"),
        ('{"id": "q", "question": "?", "answers": ["A"], "answerable": "false"}', "'answerable' must be true or false"),
        ('{"id": "q", "question": "?", "answers": ["A"], "evidence": "doc-1"}', "'evidence' must be a list"),
    ],
)
def test_question_records_of_the_wrong_shape_are_refused(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=re.escape(reason)):
        load_questions(path)


def test_a_byte_order_mark_and_a_missing_kind_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('\ufeff{"id": "q", "question": "?", "answers": []}\n', encoding="utf-8")
    [question] = load_questions(path)
    assert not question.answerable and question.kind == "unanswerable"


def test_question_files_with_bad_lines_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "q1", "question": "Who?", "answers": ["A"], "evidence": [], "answerable": true}\n{"id": 2\n')
    with pytest.raises(ConfigError, match=r"q\.jsonl:2: not a question record"):
        load_questions(bad)
    bad.write_text('{"id": "q1", "question": "Who?", "answers": [], "evidence": [], "answerable": true}\n')
    with pytest.raises(ConfigError, match="answerable question 'q1' has no answers"):
        load_questions(bad)


def test_a_near_duplicate_of_a_gold_release_counts_as_gold(sample_archive: Archive, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    record = {"id": "q1", "question": "Which exercises did Russia join in China in 2021?", "answers": ["ZAPAD"],
              "evidence": ["mnd/2021-08-13-zapad-interaction-2021-concludes-newswire-asia.txt"],  # the wire copy
              "answerable": True, "kind": "fact"}  # fmt: skip
    questions.write_text(json.dumps(record) + "\n")
    [result] = run(sample_archive, load_questions(questions)).results
    assert result.gold_rank == 1 and result.gold_cited  # the original was retrieved and cited


def test_failures_are_put_down_to_their_cause() -> None:
    from pressqa.eval.harness import QuestionResult

    def result(**changes: Any) -> QuestionResult:
        base: dict[str, Any] = {"id": "q", "kind": "fact", "question": "?", "answerable": True, "answer": "",
                                "abstained": False, "correct": False, "gold": ["g"], "unresolved": [],
                                "gold_rank": 1, "words": 1,
                                "list_recall": None, "citations": [], "good_citations": 0, "gold_cited": True,
                                "sentences": 1, "supported_by_checker": 1, "supported_lexically": 1, "crag": -1,
                                "seconds": 0.0, "cause": None, "retrieved": []}  # fmt: skip
        return QuestionResult(**{**base, **changes})

    assert cause_of(result(gold_rank=None, gold_cited=False), []) == "not retrieved"
    assert cause_of(result(abstained=True), []) == "wrong abstention"
    assert cause_of(result(gold_cited=False), []) == "retrieved but not answered"
    assert cause_of(result(), []) == "wrong answer"
    assert cause_of(result(correct=True), [True, False]) == "wrong citation"
    assert cause_of(result(correct=True), [True]) is None
    assert cause_of(result(answerable=False), []) == "wrong abstention"
    assert cause_of(result(answerable=False, abstained=True), []) is None
    assert cause_of(result(gold=[], gold_rank=None, gold_cited=False), []) == "retrieved but not answered"

    # Measures count only the questions they apply to.
    judged = [result(correct=True, judge={"correct": True, "faithful": None}), result(answerable=False,
              judge={"faithful": True}), result(gold=[], gold_rank=None), result(gold_rank=None)]  # fmt: skip
    scores = aggregate(judged)
    assert scores["judge_correct"] == 1.0 and scores["judge_faithful"] == 1.0  # only the verdicts given
    assert scores["hit@1"] == 0.5  # the question without known evidence is left out
    assert scores["accuracy"] == pytest.approx(1 / 3)


def test_evidence_that_names_no_release_is_reported_not_counted(sample_archive: Archive, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    record = {"id": "q1", "question": "Which exercises did Russia join in China in 2021?", "answers": ["ZAPAD"],
              "evidence": ["no-such-release"], "answerable": True, "kind": "fact"}  # fmt: skip
    questions.write_text(json.dumps(record) + "\n")
    report = run(sample_archive, load_questions(questions))
    assert report.results[0].unresolved == ["no-such-release"] and report.results[0].gold == []
    assert report.overall["hit@5"] is None and report.overall["accuracy"] == 1.0


def test_the_bundled_question_set_meets_its_thresholds(sample_archive: Archive) -> None:
    report = run(sample_archive, load_questions(SAMPLE_QUESTIONS))
    scores = report.overall
    failing = [(r.id, r.cause) for r in report.results if r.cause]
    assert scores["hit@5"] is not None and scores["hit@5"] >= 0.95, failing
    assert scores["accuracy"] is not None and scores["accuracy"] >= 0.8, failing
    assert scores["citation_precision"] is not None and scores["citation_precision"] >= 0.85, failing
    assert scores["abstention_recall"] is not None and scores["abstention_recall"] >= 0.6, failing
    assert scores["false_abstention"] is not None and scores["false_abstention"] <= 0.1, failing
    assert scores["support_checker"] == 1.0  # every sentence shown passed the same checker
    assert scores["support_lexical"] is not None and scores["support_lexical"] >= 0.9
    assert set(report.per_kind) == {r.kind for r in report.results}


def _recount_accuracy(report: dict[str, Any], questions: list[dict[str, Any]]) -> float:
    """Accuracy from report.json, by a normaliser written apart from the harness's."""

    def norm(text: str) -> str:
        text = re.sub(r"(\d),(\d{3})", r"\1\2", text.lower())
        return " " + " ".join(re.findall(r"[a-z]+|\d+(?:\.\d+)?", text)) + " "

    gold = {q["id"]: q["answers"] for q in questions}
    answerable = [r for r in report["results"] if r["answerable"]]
    right = [
        r for r in answerable if not r["abstained"] and any(norm(alias) in norm(r["answer"]) for alias in gold[r["id"]])
    ]
    return len(right) / len(answerable)


def test_pressqa_eval_writes_its_reports_and_compares_two_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "run1"
    questions = [str(SAMPLE_QUESTIONS), "--corpus", str(SAMPLE_ARCHIVE), "-q"]
    assert main(["eval", *questions, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| hit@5 |" in printed and "report.md" in printed
    assert {path.name for path in out.iterdir()} == {"report.json", "report.md", "report.png"}
    assert (out / "report.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((out / "report.json").read_text())
    lines = [json.loads(line) for line in SAMPLE_QUESTIONS.read_text().splitlines()]
    assert report["overall"]["accuracy"] == pytest.approx(_recount_accuracy(report, lines))
    with_gold = [r for r in report["results"] if r["answerable"] and r["gold"]]
    recounted = sum(any(set(group) & set(r["gold"]) for group in r["retrieved"][:5]) for r in with_gold)
    assert report["overall"]["hit@5"] == pytest.approx(recounted / len(with_gold))
    assert len(report["results"]) == len(lines)
    markdown = (out / "report.md").read_text()
    for result in report["results"]:
        if result["cause"]:
            assert f"**{result['id']}**" in markdown

    # A second run (the cached archive is reused) compared with the first, then with a
    # report where one question went wrong and another is missing.
    assert main(["eval", *questions, "--out", str(tmp_path / "run2")]) == 0
    capsys.readouterr()
    assert main(["eval", "compare", str(out / "report.json"), str(tmp_path / "run2" / "report.json")]) == 0
    compared = capsys.readouterr().out
    assert "| accuracy |" in compared and "Questions that flipped: 0" in compared
    right = next(r for r in report["results"] if r["cause"] is None)
    right["cause"] = "wrong answer"
    report["overall"]["accuracy"] -= 0.1
    dropped = report["results"].pop()
    (tmp_path / "changed.json").write_text(json.dumps(report))
    assert main(["eval", "compare", str(out / "report.json"), str(tmp_path / "changed.json")]) == 0
    compared = capsys.readouterr().out
    assert f"only before: ['{dropped['id']}']" in compared
    assert f"- {right['id']}: right -> wrong answer" in compared and "| -10% |" in compared


def test_a_language_model_judge_is_optional_and_labelled(sample_archive: Archive, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    record = {"id": "q1", "question": "Which exercises did Russia join in China in 2021?", "answers": ["ZAPAD"],
              "evidence": [], "answerable": True, "kind": "fact"}  # fmt: skip
    questions.write_text(json.dumps(record) + "\n")
    with serving(lambda messages: "yes") as (url, model):
        judge = load_llm(f"openai-like:judge@{url}/v1")
        report = run(sample_archive, load_questions(questions), judge=judge)
    assert report.results[0].judge == {"correct": True, "faithful": True}
    assert report.overall["judge_correct"] == 1.0
    assert "Gold answers (any one is enough): ZAPAD" in model.requests[0]["messages"][-1]["content"]
    assert run(sample_archive, load_questions(questions)).overall["judge_correct"] is None


def test_a_corpus_has_one_cached_archive_however_its_path_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "a", "text": "Body."}\n')
    monkeypatch.chdir(tmp_path)
    cached = corpus_archive(corpus)
    assert corpus_archive(Path("corpus.jsonl")) == cached
    corpus.write_text('{"id": "a", "text": "Body, edited."}\n')
    assert corpus_archive(corpus) != cached  # a changed corpus gets an archive of its own
