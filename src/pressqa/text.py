"""Sentences with their character offsets, and the content words that compare them.

llama-index's sentence tokenizer (nltk punkt) ends sentences at "U.S." and "Mr.", which
press releases are full of, so sentences are split here with the abbreviations they use.
"""

from __future__ import annotations

import re

import Stemmer

# Words that end with a period without ending a sentence.
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt", "cpl", "pvt", "gov", "sen",
    "rep", "rev", "hon", "st", "jr", "sr", "no", "nos", "vs", "v", "inc", "co", "corp", "ltd", "dept", "div",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.n", "u.k",
    "e.g", "i.e", "etc", "approx", "est", "fig", "p", "pp", "d.c", "a.m", "p.m", "ret", "atty", "asst",
}  # fmt: skip
# A sentence end: the mark, closing quotes or brackets, then space and a capital or digit.
_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")
# A line this short ends a dateline or heading ("KABUL, Afghanistan (March 17, 2011)"),
# not a hard-wrapped line of a paragraph.
SHORT_LINE = 60
# The start of a list item on its own line: "- ", "* ", "\u2022 ", "\u00b7 ", "1. ", "(a) ".
_BULLET = re.compile(r"[ \t]*(?:[-*\u2022\u00b7\u25aa]|\d{1,2}[.)]|\([a-z0-9]\))[ \t]+")
_DOLLARS_BEFORE = re.compile(r"\$\s?\d{1,3}$")
_WORD_BEFORE = re.compile(r"(?<![A-Za-z.])([A-Za-z][A-Za-z.]*)\.$")
_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern
_STEMMER = Stemmer.Stemmer("english")  # the keyword index's stemmer
STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off",
    "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should",
    "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
    "yourself", "yourselves", "said", "says", "say", "according", "announced", "announce", "many", "much", "what's",
    "whose"
})  # fmt: skip


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, shifted by ``offset``; surrounding
    whitespace is left out, so ``text[start:end]`` is the sentence as written.  Paragraph
    breaks and the ends of short lines (datelines, headings) end sentences too."""
    cuts = set()
    for match in _END.finditer(text):
        # Only the last few characters: a search from 0 each time made splitting quadratic.
        before = _WORD_BEFORE.search(text, max(0, match.start() - 20), match.start() + 1)
        if text[match.start()] == "." and before and _is_abbreviation(before.group(1)):
            continue
        if (
            _DOLLARS_BEFORE.search(text, max(0, match.start() - 6), match.start())
            and text[match.end() + 1 : match.end() + 2].isdigit()
        ):
            continue  # "$3. 8 billion": a decimal point an export spaced out, not a full stop
        cuts.add(match.end())
    line_start = 0
    for match in re.finditer("\n", text):
        if (
            match.start() - line_start < SHORT_LINE
            or text.startswith("\n", match.end())
            or text[line_start : match.start()].rstrip().endswith(":")  # a list announced
            or _BULLET.match(text, match.end())  # an item of a list
        ):
            cuts.add(match.start())
        line_start = match.end()
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        piece = text[start:cut]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + start + lead, offset + start + lead + len(stripped)))
        start = cut
    return spans


def _is_abbreviation(word: str) -> bool:
    lowered = word.lower()
    # Single letters are initials ("Chad A. Readler"); dotted forms are acronyms ("U.S.").
    return lowered in ABBREVIATIONS or len(word) == 1 or ("." in lowered and len(lowered) <= 6)


def content_terms(text: str) -> list[str]:
    """Stemmed lower-case words that carry meaning, in order: the keyword index's own
    tokens (so its document frequencies weigh them), without question words."""
    return [_STEMMER.stemWord(word) for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def words(text: str) -> int:
    return len(text.split())
