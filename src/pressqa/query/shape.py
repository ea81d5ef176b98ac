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

from pressqa.query.issuers import issuer_words, name_word
from pressqa.text import STOPWORDS
from pressqa.types import Shape, TimeSpan

# "releases" is always a kind of release; "statements", "reports", "updates" ... are one only
# when the question names an issuer of the archive ("How many statements did the witness
# give?" asks a fact).
_RELEASES = r"(?:(?:press|news)\s+)?releases"
_SAID_THINGS = r"(?:statements|announcements|reports|updates|briefings|communiqu[e\u00e9]s)"
_EVENTS = r"(?:operations|cases)"
# Verbs of saying, not nouns ("the release of the prisoners", "False Claims Act").
_SAYING = r"(?:report|say|said|announce|state|publish|tell|told|disclose|write)(?:e?[ds])?"
# "How many releases did", "how many press releases about"; not "how many reports of casualties".
_COUNT = r"\bhow\s+many\s+(?:\w+\s+){{0,2}}?{noun}\b(?!\s+of\b)"  # a template: str.format fills {noun}
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
# "What did ISAF report from ...": what a speaker of a few words said, not "what did the
# department report as its total" (a figure).
_WHAT_SAID = re.compile(
    rf"\bwhat\s+(?:did|has|have|had|does|do)\s+(?:\S+\s+){{1,5}}?{_SAYING}\b(?!\s+(?:as|to\s+be)\b)",
    re.IGNORECASE,
)
# "List the Justice Department's releases on ...", "which operations ... in May 2010": the
# noun after words that say whose or which ones, not after another noun ("prisoner releases").
_ASKING_FOR = (
    r"\b(?:(?:which|what)\s+|(?:list|show)\s+(?:me\s+)?)"
    r"(?:(?:all|the|its|their|(?-i:[A-Z][\w.-]*)|[\w.-]+['\u2019]s)\s+){0,4}?"
)
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


def read_shape(question: str, time: TimeSpan | None, *, issuer_named: bool = False) -> Shape | None:
    """The shape of ``question`` (``time`` is the span it names; ``issuer_named`` whether
    it names an issuer of the archive), or None for a question one passage answers.  "What
    did X report" and "which operations" ask for a timeline only when they name a period
    ("What did NATO agree at the Vilnius summit?" does not); "list the releases on X" always
    does, and "the ministry's statements on X" when the ministry is the archive's."""
    nouns = rf"(?:{_RELEASES}|{_SAID_THINGS})" if issuer_named else _RELEASES
    if re.search(_COUNT.format(noun=nouns), question, re.IGNORECASE):
        return "count"
    if _LATEST.search(question):
        return "latest"
    if _EARLIEST.search(question):
        return "earliest"
    if _TIMELINE.search(question) or re.search(rf"{_ASKING_FOR}{nouns}\b", question, re.IGNORECASE):
        return "timeline"
    if time is not None and (
        _WHAT_SAID.search(question) or re.search(rf"{_ASKING_FOR}{_EVENTS}\b", question, re.IGNORECASE)
    ):
        return "timeline"
    return None


def subject_words(question: str, time: TimeSpan | None, issuers: Iterable[str]) -> tuple[str, ...]:
    """The words of ``question`` that name what it asks about: not the words of its shape,
    the time it names, nor the issuers it names ("ISAF's reports on Helmand province in
    July 2012" -> helmand, province).  Capitalised words in a row are one name, matched as
    a phrase ("Liberty Reserve's case" -> "liberty reserve", case); names with digits stay
    ("F-35", "Boeing 737 MAX")."""
    if time is not None:
        question = question.replace(time.phrase, " ")
    named = issuer_words(issuers)
    found: list[str] = []
    in_name = False
    for at, match in enumerate(re.finditer(r"[A-Za-z0-9][\w'\u2019.-]*|[^\w\s]+", question)):
        raw = match.group().rstrip(".")
        possessive = raw.lower().endswith(("'s", "\u2019s"))
        word = raw.lower().removesuffix("'s").removesuffix("\u2019s").strip("'\u2019-")
        ignored = word in STOPWORDS or word in SHAPE_WORDS or name_word(raw) in named
        if not raw[:1].isalnum() or len(word) < 2 or ignored:
            in_name = False
            continue
        name = (raw[0].isupper() or raw[0].isdigit()) and at > 0
        if name and in_name:
            found[-1] += " " + word
        else:
            found.append(word)
        in_name = name and not possessive  # "Liberty Reserve's case": the name ends with the possessive
    return tuple(dict.fromkeys(found))
