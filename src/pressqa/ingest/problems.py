"""Bounded problem reports: every failed input is counted, a few are listed.

One hostile file can hold millions of bad records; a report that listed each would take
gigabytes to build and print.  So problems are listed up to a limit per file and per
run, and the rest are counted by the kind of problem.
"""

from __future__ import annotations

import collections
import re

from pressqa.types import REPORT_PER_FILE, REPORT_PER_RUN, IngestProblem, origin_file

# Reasons of one kind differ in their numbers ("line 12: ...", "file is 31.2 MB"); without
# them, a reason is the kind of problem that counts are kept by.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MAX_KINDS = 50
MORE = "more of: "  # how a line that stands for several problems of one kind begins
OTHER_KINDS = "(other kinds of problem)"


def problem_kind(reason: str) -> str:
    """The reason of a problem without its numbers (and cut short: a reason can quote input)."""
    return _NUMBER.sub("N", reason)[:200]


def count_kind(counts: collections.Counter[str], reason: str, count: int) -> None:
    """Add ``count`` problems of ``reason``'s kind; past ``MAX_KINDS`` kinds, to the others."""
    kind = problem_kind(reason.removeprefix(MORE))
    counts[kind if kind in counts or len(counts) < MAX_KINDS else OTHER_KINDS] += count


class ProblemCap:
    """The problems of one file: the first ``limit`` listed, the rest counted by kind."""

    def __init__(self, name: str, limit: int = REPORT_PER_FILE) -> None:
        self.name = name
        self.limit = limit
        self._listed: list[IngestProblem] = []
        self._rest: collections.Counter[str] = collections.Counter()

    def add(self, problem: IngestProblem) -> None:
        if len(self._listed) < self.limit:
            self._listed.append(problem)
        else:
            count_kind(self._rest, problem.reason, problem.count)

    def lines(self) -> list[IngestProblem]:
        """The listed problems, then one line per kind of the rest."""
        rest = [IngestProblem(self.name, f"{MORE}{kind}", count) for kind, count in self._rest.most_common()]
        return [*self._listed, *rest]


class FailureLog:
    """The problems of one ingest run: all counted, at most ``per_file`` listed per file
    and ``per_run`` in all."""

    def __init__(self, per_file: int = REPORT_PER_FILE, per_run: int = REPORT_PER_RUN) -> None:
        self.per_file = per_file
        self.per_run = per_run
        self.listed: list[IngestProblem] = []
        self.count = 0
        self.kinds: collections.Counter[str] = collections.Counter()
        self._listed_per_file: collections.Counter[str] = collections.Counter()

    def add(self, problem: IngestProblem) -> None:
        self.count += problem.count
        count_kind(self.kinds, problem.reason, problem.count)
        file = origin_file(problem.path)
        # A line that stands for many (see ProblemCap) is listed even past the file's cap.
        if (problem.count > 1 or self._listed_per_file[file] < self.per_file) and len(self.listed) < self.per_run:
            self._listed_per_file[file] += 1
            self.listed.append(problem)

    def reasons(self) -> dict[str, int]:
        """Inputs per kind of problem, the most frequent first."""
        return dict(self.kinds.most_common())
