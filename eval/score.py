"""Score pressqa's answers on a question set (format: eval/README.md) and print a markdown report.

    python eval/score.py --archive ARCHIVE --questions QUESTIONS.jsonl [--llm SPEC] [--sample-archive]

Measures, over answerable questions: a gold release among the cited or top-5 retrieved
releases; a gold alias in the answer (matched on word boundaries after normalising
punctuation); answer length; citations that point to a gold release or quote an alias;
abstentions; and, over unanswerable questions, abstentions.  ``--sample-archive`` maps
evidence given as paths inside ingest/sample-archive/ to the ids the archive gave them.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

from pressqa import Answer, Archive


def words_of(text: str) -> list[str]:
    """Lower-case words and numbers, thousands separators and currency signs dropped."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower().replace("\u2019", "'"))
    return re.findall(r"\d+(?:\.\d+)*|[a-z]+", text)


def contains_alias(text: str, aliases: list[str]) -> bool:
    found = words_of(text)
    for alias in aliases:
        wanted = words_of(alias)
        if wanted and any(found[i : i + len(wanted)] == wanted for i in range(len(found) - len(wanted) + 1)):
            return True
    return False


def releases_of(answer: Answer) -> tuple[set[str], set[str]]:
    """Ids of the cited releases and of the retrieved ones, each with its copies."""
    cited = {doc for citation in answer.citations for doc in (citation.doc_id, *citation.copies)}
    retrieved = {doc for hit in answer.hits for doc in (hit.doc_id, *hit.copies)}
    return cited, retrieved


def evidence_ids(question: dict, archive: Archive, sample_root: Path | None) -> set[str]:
    if sample_root is None:
        return set(question["evidence"])
    from pressqa.ingest.metadata import file_doc_id

    return {
        file_doc_id(sample_root / item) if (sample_root / item).is_file() else item for item in question["evidence"]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--llm", default=None)
    parser.add_argument(
        "--sample-archive", action="store_true", help="evidence paths are inside ingest/sample-archive/"
    )
    args = parser.parse_args()
    sample_root = (
        (Path(__file__).parent.parent / "ingest" / "sample-archive").resolve() if args.sample_archive else None
    )
    questions = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    rows = []
    with Archive.open(args.archive, create=False) as archive:
        archive.ask("warm-up", llm=args.llm)  # loads the models, outside the timings
        for question in questions:
            started = time.perf_counter()
            answer = archive.ask(question["question"], llm=args.llm)
            seconds = time.perf_counter() - started
            gold = evidence_ids(question, archive, sample_root)
            cited, retrieved = releases_of(answer)
            good_citations = sum(
                1
                for citation in answer.citations
                if {citation.doc_id, *citation.copies} & gold or contains_alias(citation.quote, question["answers"])
            )
            rows.append(
                {
                    "id": question["id"],
                    "kind": question["kind"],
                    "answerable": question["answerable"],
                    "abstained": answer.abstained,
                    "correct": question["answerable"] and contains_alias(answer.text, question["answers"]),
                    "found": bool((cited | retrieved) & gold),
                    "words": len(answer.text.split()),
                    "citations": len(answer.citations),
                    "good_citations": good_citations,
                    "seconds": seconds,
                    "answer": answer.text,
                }
            )
    print(report(rows))


def report(rows: list[dict]) -> str:
    answerable = [row for row in rows if row["answerable"]]
    unanswerable = [row for row in rows if not row["answerable"]]
    answered = [row for row in answerable if not row["abstained"]]
    citations = sum(row["citations"] for row in rows)
    good = sum(row["good_citations"] for row in rows)

    def share(part: int, whole: int) -> str:
        return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "n/a"

    def count(key: str, among: list[dict]) -> str:  # how many rows of ``among`` have ``key`` true
        return share(sum(row[key] for row in among), len(among))

    median_words = statistics.median(row["words"] for row in answered) if answered else "-"
    lines = [
        "| measure | value |",
        "| --- | --- |",
        f"| gold release cited or in top 5 (answerable) | {count('found', answerable)} |",
        f"| answer contains a gold alias (answerable) | {count('correct', answerable)} |",
        f"| median answer length, words (answered) | {median_words} |",
        f"| citations to a gold release or quoting an alias | {share(good, citations)} |",
        f"| unanswerable questions that abstain | {count('abstained', unanswerable)} |",
        f"| answerable questions that abstain | {count('abstained', answerable)} |",
        f"| median seconds per question (retrieval + answer) | {statistics.median(r['seconds'] for r in rows):.3f} |",
        "",
        "| id | kind | result | words | answer |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for row in rows:
        if not row["answerable"]:
            result = "abstained (right)" if row["abstained"] else "answered (wrong)"
        elif row["abstained"]:
            result = "abstained (wrong)"
        else:
            result = "correct" if row["correct"] else "no alias"
        text = row["answer"].replace("|", "/").replace("\n", " ")
        lines.append(f"| {row['id']} | {row['kind']} | {result} | {row['words']} | {text[:160]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
