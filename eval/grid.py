"""Try the offline answerer's weights over a grid, on every question set at once.

    python eval/grid.py NAME=v1,v2 [NAME=v1,v2 ...]

NAME is a constant of ``pressqa.answer.extractive`` (e.g. UNANCHORED_DAY=0.4,0.6,0.8).
For every combination, each set of ``eval/results.py`` is asked again over its cached
archive and the number right per set is printed (with unanswerables declined and the mean
list recall): a setting is kept only where the sets
agree and the grid is flat around it, never for one question.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from pressqa import Archive
from pressqa.answer import extractive
from pressqa.eval import corpus_archive, load_questions, run

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import SETS  # noqa: E402  (eval/ is not a package)


def main() -> int:
    axes = []
    for argument in sys.argv[1:]:
        name, _, values = argument.partition("=")
        if not hasattr(extractive, name):
            print(f"pressqa.answer.extractive has no {name}", file=sys.stderr)
            return 2
        kind = type(getattr(extractive, name))  # an int stays an int (a count, a reach)
        axes.append([(name, kind(float(value))) for value in values.split(",")])
    sets = [
        (name, load_questions(questions), corpus_archive(corpus))
        for name, questions, corpus in SETS
        if questions.is_file() and corpus.exists()
    ]
    archives = {name: Archive.open(path, create=False) for name, _, path in sets}
    print(" | ".join(["setting", *(f"{name} right" for name, _, _ in sets)]))
    for setting in itertools.product(*axes):
        for name, value in setting:
            setattr(extractive, name, value)
        scores = []
        for name, questions, _ in sets:
            report = run(archives[name], questions)
            right = sum(result.correct for result in report.results if result.answerable)
            declined = sum(result.abstained for result in report.results if not result.answerable)
            recalls = [result.list_recall for result in report.results if result.list_recall is not None]
            listed = f", list recall {sum(recalls) / len(recalls):.2f}" if recalls else ""
            scores.append(f"{right}/{sum(r.answerable for r in report.results)} (+{declined} declined{listed})")
        print(" | ".join([", ".join(f"{name}={value:g}" for name, value in setting), *scores]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
