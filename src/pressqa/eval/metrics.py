"""The measures, as small pure functions (tested on hand-made cases in tests/test_eval.py)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

# A number (decimals kept, a leading minus too) or a run of letters of any script.
_NUMBER_WORD = re.compile(r"-?\d+(?:\.\d+)*|[^\W\d_]+")


def answer_words(text: str) -> list[str]:
    """Words and numbers as compared: lower case, accents and punctuation dropped, currency
    signs dropped, thousands separators removed, "%" read as "percent", trailing decimal
    zeros cut ("$4,900.50 million" -> ["4900.5", "million"]; "Müller" -> ["muller"])."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    text = "".join(character for character in text if not unicodedata.combining(character))
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text).replace("%", " percent ")
    text = re.sub(r"(?<![\w-])-(?!\d)|(?<=\w)-", " ", text)  # hyphens between words, not minus signs
    words = _NUMBER_WORD.findall(text)
    return [re.sub(r"(\.\d*?)0+$", r"\1", word).rstrip(".") if "." in word else word for word in words]


def contains(text: str, alias: str) -> bool:
    """``alias`` occurs in ``text`` on word boundaries ("3" is not in "13"; "$4.9 billion"
    is in "4.9 billion")."""
    found, wanted = answer_words(text), answer_words(alias)
    return bool(wanted) and any(found[at : at + len(wanted)] == wanted for at in range(len(found) - len(wanted) + 1))


def contains_any(text: str, aliases: Iterable[str]) -> bool:
    return any(contains(text, alias) for alias in aliases)


def stuffed(text: str) -> bool:
    """An answer that lists numbers wholesale (more than 12 different ones, making up over
    a third of its words) would contain any count by accident: it is not counted right."""
    words = answer_words(text)
    numbers = {word for word in words if word[0].isdigit()}
    return len(numbers) > 12 and sum(word[0].isdigit() for word in words) > len(words) / 3


def is_correct(text: str, aliases: Iterable[str]) -> bool:
    """A gold alias is in the answer, and the answer is not a list of numbers stuffed with candidates."""
    return contains_any(text, aliases) and not stuffed(text)


def list_recall(text: str, items: Sequence[str]) -> float | None:
    """Share of a list question's items found in the answer (None when it has none)."""
    return sum(contains(text, item) for item in items) / len(items) if items else None


def first_gold_rank(ranked: Sequence[set[str]], gold: set[str]) -> int | None:
    """1-based rank of the first retrieved release (with its copies) that is gold."""
    return next((rank for rank, group in enumerate(ranked, 1) if group & gold), None)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def lexical_support(sentence: str, quote: str) -> bool:
    """An independent check of a citation: most of the sentence's longer words (numbers
    included) are in the quote.  Cruder than the answerer's checker on purpose, so that
    a fault in that checker shows as a gap between the two rates."""
    words = [word for word in answer_words(sentence) if len(word) > 3 or word.isdigit()]
    if not words:
        return False
    quoted = set(answer_words(quote))
    return sum(word in quoted for word in words) / len(words) >= 0.5
