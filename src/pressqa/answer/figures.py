"""Figures as releases write them ("35", "thirty-five", "$5.69 billion"), and the claim that
computes one from two: ``In total: 35 = 20 [1] + 15 [2].``  The answerer writes that claim
for a question over two releases; the citation checker accepts it only if each operand is
in a passage of the source it cites and the result is what the operands give."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pressqa.query.question import NUMBER_WORDS

Operation = Literal["sum", "difference"]

# Number words a figure may be written in ("twenty-five"), and their values.
_UNITS = {word: value for value, word in enumerate(NUMBER_WORDS.split("|")[:19], 1)}
_TENS = {word: 10 * value for value, word in enumerate(NUMBER_WORDS.split("|")[19:27], 2)}
_MAGNITUDES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_OPERATORS: dict[Operation, str] = {"sum": "+", "difference": "\u2212"}
_LABELS: dict[Operation, str] = {"sum": "In total", "difference": "The difference"}
_COMPUTED = re.compile(
    r"^(?P<label>In total|The difference): (?P<result>[^=\[\]]+?) = (?P<first>[^=\[\]]+?) \[(?P<first_source>\d+)\] "
    r"(?P<operator>[+\u2212-]) (?P<second>[^=\[\]]+?) \[(?P<second_source>\d+)\]\.?$"
)


@dataclass(frozen=True, slots=True)
class Computed:
    """A computed claim read back: its operation, result, and each operand with the
    number of the source it cites."""

    operation: Operation
    result: str
    operands: tuple[tuple[str, int], tuple[str, int]]

    def holds(self) -> bool:
        """Whether the result is what the operands give, written as ``computed_claim`` writes it."""
        (first, _), (second, _) = self.operands
        return self.result == computed_result(self.operation, first, second)

    def claim(self, first_marker: str, second_marker: str) -> str:
        (first, _), (second, _) = self.operands
        operator = _OPERATORS[self.operation]
        return f"{_LABELS[self.operation]}: {self.result} = {first} {first_marker} {operator} {second} {second_marker}."


def computed_claim(operation: Operation, first: tuple[str, int], second: tuple[str, int]) -> str:
    """The claim that adds or subtracts two figures, each cited by its source number."""
    result = computed_result(operation, first[0], second[0])
    return Computed(operation, result, (first, second)).claim(f"[{first[1]}]", f"[{second[1]}]")


def read_computed(claim: str) -> Computed | None:
    """``claim`` read as a computed claim, or None if it is not one."""
    found = _COMPUTED.match(claim.strip())
    if found is None:
        return None
    operation: Operation = "sum" if found.group("operator") == "+" else "difference"
    return Computed(
        operation,
        found.group("result"),
        (
            (found.group("first"), int(found.group("first_source"))),
            (found.group("second"), int(found.group("second_source"))),
        ),
    )


def computed_result(operation: Operation, first: str, second: str) -> str:
    """The sum or the difference of two figures, written as they are written: "$1.89
    billion" from "$5.69 billion" and "$3.8 billion"; "" if either is no number."""
    one, other = figure_value(first), figure_value(second)
    if one is None or other is None:
        return ""
    return format_figure(one + other if operation == "sum" else one - other, first, second)


def figure_value(text: str) -> float | None:
    """The value of a figure as releases write it: "35", "1,540", "$5.69 billion",
    "twenty-five"; None for what is not a number ("dozens")."""
    lowered = text.lower().replace(",", "").replace(". ", ".").lstrip("$").strip()  # "$3. 8 billion" too
    magnitude = 1.0
    for word, factor in _MAGNITUDES.items():
        if lowered.endswith(word):
            lowered, magnitude = lowered[: -len(word)].strip(), factor
    try:
        return float(lowered.rstrip("%")) * magnitude
    except ValueError:
        pass
    tens, _, unit = lowered.partition("-")
    if tens in _TENS and (not unit or (unit in _UNITS and _UNITS[unit] < 10)):
        return (_TENS[tens] + (_UNITS[unit] if unit else 0)) * magnitude
    return _UNITS[lowered] * magnitude if lowered in _UNITS else None


def format_figure(value: float, *operands: str) -> str:
    """``value`` written as its operands are: "$1.89 billion" from "$5.69 billion" and "$3.8
    billion" (in their precision); "$400 million" from "$1.3 billion" and "$900 million" (in
    the largest of their units that keeps it a whole or more); a count as a whole number."""
    money = all(operand.startswith("$") for operand in operands)
    units = sorted(
        {word for operand in operands for word in _MAGNITUDES if operand.lower().endswith(word)},
        key=_MAGNITUDES.__getitem__,
        reverse=True,
    )
    unit = next((word for word in units if abs(value) >= _MAGNITUDES[word]), units[-1] if units else "")
    scaled = value / _MAGNITUDES[unit] if unit else value
    written = re.findall(r"\d+\.\s?(\d+)", " ".join(operands))
    if len(units) > 1:  # mixed: to two places, as far as they say something
        number = f"{scaled:,.2f}".rstrip("0").rstrip(".")
    else:
        number = f"{scaled:,.{max(map(len, written), default=0)}f}"
    return ("$" if money else "") + number + (f" {unit}" if unit else "")
