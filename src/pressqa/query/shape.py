"""Questions answered by a set of releases over time, not by one sentence: a timeline ("What
did ISAF report from Helmand province in March 2011?"), the newest or the first release on
a subject ("What is the latest the Justice Department said about Liberty Reserve?"), or a
count of releases ("How many releases did the ministry issue about Joint Sea in 2021?").

The shape is read from the question's words; what is left once the words of the shape, the
time and the issuer are taken out is the subject that a release must hold to belong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pressqa.query.issuers import issuer_words
from pressqa.text import STOPWORDS
from pressqa.types import Shape, TimeSpan

# Kinds of release ("how many statements"), and of events releases announce, that an analyst
# asks a set of ("which operations ... in May 2010").
_RELEASES = (
    r"(?:press\s+releases|news\s+releases|releases|statements|announcements|reports|updates|briefings"
    r"|communiqu[e\u00e9]s)"
)
_EVENTS = r"(?:operations|cases)"
_SAYING = r"(?:report|say|said|announce|state|publish|release|issue|tell|told|disclose|claim|write)(?:e?[ds])?"
_COUNT = re.compile(rf"\bhow\s+many\s+(?:\w+\s+){{0,2}}?{_RELEASES}\b", re.IGNORECASE)
_LATEST = re.compile(
    r"\b(?:latest|most\s+recent(?:ly)?|newest)\b|\blast\s+(?:statement|release|report|update|announcement|word)\b",
    re.IGNORECASE,
)
_EARLIEST = re.compile(
    r"\bearliest\b|\bfirst\s+(?:statement|release|report|update|announcement|mention)\b"
    r"|\bwhen\s+did\s+(?:\S+\s+){1,8}?first\b",
    re.IGNORECASE,
)
_TIMELINE = re.compile(r"\btime\s*line\b|\bchronolog(?:y|ical)\b|\bin\s+date\s+order\b", re.IGNORECASE)
# "What did ISAF report from ...": a question about what an issuer said (needs a period).
_WHAT_SAID = re.compile(rf"\bwhat\s+(?:did|has|have|had|does|do)\s+(?:\S+\s+){{1,8}}?{_SAYING}\b", re.IGNORECASE)
# "List the ministry's statements on ...", "which operations ... did ISAF announce in May 2010".
_ASKING_FOR = r"\b(?:(?:which|what)\s+|(?:list|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?)(?:[\w'\u2019]+\s+){0,3}?"
_WHICH_RELEASES = re.compile(rf"{_ASKING_FOR}{_RELEASES}\b", re.IGNORECASE)
_WHICH_EVENTS = re.compile(rf"{_ASKING_FOR}{_EVENTS}\b", re.IGNORECASE)
# Words that say which shape a question has or what kind of release it wants: never its subject.
SHAPE_WORDS = frozenset({
    "timeline", "time", "line", "chronology", "chronological", "order", "date", "latest", "recent", "recently",
    "newest", "last", "earliest", "first", "report", "reports", "reported", "reporting", "say", "said", "says",
    "state", "stated", "statement", "statements", "announce", "announced", "announcement", "announcements",
    "publish", "published", "release", "releases", "released", "issue", "issued", "issuing", "press", "news",
    "update", "updates", "operations", "operation", "cases", "case", "briefing", "briefings", "communique",
    "communiques", "tell", "told", "disclose", "disclosed", "claim", "claimed", "write", "wrote", "written",
    "mention", "mentioned", "mentions", "give", "me", "list", "show", "many", "how", "what", "which", "did",
    "does", "do", "has", "have", "had", "ever", "far", "month", "months", "year", "years", "week", "weeks",
    "day", "days"
})  # fmt: skip


def read_shape(question: str, time: TimeSpan | None) -> Shape | None:
    """The shape of ``question`` (``time`` is the span it names), or None for a question
    one passage answers.  "What did X report" and "which operations" ask for a timeline
    only when they name a period ("What did NATO agree at the Vilnius summit?" does not);
    "list the statements on X" always does."""
    if _COUNT.search(question):
        return "count"
    if _LATEST.search(question):
        return "latest"
    if _EARLIEST.search(question):
        return "earliest"
    if _TIMELINE.search(question) or _WHICH_RELEASES.search(question):
        return "timeline"
    if time is not None and (_WHAT_SAID.search(question) or _WHICH_EVENTS.search(question)):
        return "timeline"
    return None


def subject_words(question: str, time: TimeSpan | None, issuers: Iterable[str]) -> tuple[str, ...]:
    """The words of ``question`` that name what it asks about: not the words of its shape,
    the time it names, nor the issuers it names ("ISAF's reports on Helmand province in
    July 2012" -> helmand, province).  Capitalised words in a row are one name, matched as
    a phrase ("Liberty Reserve" -> "liberty reserve")."""
    if time is not None:
        question = question.replace(time.phrase, " ")
    named = issuer_words(issuers)
    found: list[str] = []
    in_name = False
    for at, match in enumerate(re.finditer(r"[A-Za-z][A-Za-z'\u2019-]*|[^\sA-Za-z]+", question)):
        raw = match.group()
        word = raw.lower().removesuffix("'s").removesuffix("\u2019s").strip("'\u2019-")
        if not raw[0].isalpha() or len(word) < 2 or word in STOPWORDS or word in SHAPE_WORDS or word in named:
            in_name = False
            continue
        capital = raw[0].isupper() and at > 0
        if capital and in_name and not raw.lower().endswith(("'s", "\u2019s")):
            found[-1] += " " + word
        else:
            found.append(word)
        in_name = capital and not raw.lower().endswith(("'s", "\u2019s"))
    return tuple(dict.fromkeys(found))
