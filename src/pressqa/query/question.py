"""What a question asks for, read from its words: the type of the answer (a number, a date,
a person, a place, a name), whether it wants a list, and which of its words must be
matched.  The offline answerer prefers sentences that hold an answer of that type, and
abstains when none of the retrieved sentences does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pressqa.text import STOPWORDS, content_terms, stem

AnswerKind = Literal["number", "date", "person", "place", "name", "other"]

NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    "million|billion|dozen|dozens|hundreds|thousands"
)
# What a count of items announced in words is worth ("five of its leaders").
NUMBER_VALUES = dict(zip(NUMBER_WORDS.split("|")[:12], range(1, 13), strict=True))
MONTHS = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|March|Mar\.|April|Apr\.|May|June|July|Aug(?:ust|\.)?|"
    r"Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
# A calendar day as releases write it: "March 6, 2012", "Oct. 19", "6 March 2012".
DAY = re.compile(MONTHS + r"\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4})?|\b\d{1,2}\s+" + MONTHS + r"(?:\s+\d{4})?")
# Any date-like expression, removed before looking for quantities so "March 17, 2011" is no count.
DATELIKE = re.compile(DAY.pattern + "|" + MONTHS + r"\s+\d{4}|\b(?:19|20)\d\d\b")
QUANTITY = re.compile(
    r"(?<![\w.])(\$\s?\d(?:[\d,]*\d)?(?:\.\s?\d+)?(?:\s+(?:million|billion|thousand))?"
    r"|\d(?:[\d,]*\d)?(?:\.\d+)?%?"
    rf"|(?:{NUMBER_WORDS})(?:-(?:{NUMBER_WORDS}))?)(?!\w)",
    re.IGNORECASE,
)
# A run of capitalised words, initials and name particles: "Shukri Abu Baker", "Chad A. Readler".
NAME = re.compile(r"(?:[A-Z][a-z'\u2019-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'\u2019-]+|[A-Z]\.|al-\w+|(?:bin|de|el)\b))*")
# Capitalised words that do not make a name of a person (offices, places of government, months).
NOT_A_NAME = frozenset({
    "the", "a", "an", "this", "that", "these", "those", "his", "her", "its", "their", "department", "justice",
    "court", "district", "attorney", "general", "office", "division", "act", "bank", "united", "states", "federal",
    "national", "international", "police", "force", "forces", "security", "state", "county", "city", "province",
    "u.s", "afghan", "coalition", "american", "assistant", "deputy", "acting", "associate", "special", "agent",
    "agents", "secretary", "administration", "bureau", "inc", "corporation", "company", "co", "ltd", "llc",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "in", "on",
    "at", "for", "of", "and", "with", "by", "from", "kabul", "washington", "afghanistan", "northern", "southern",
    "eastern", "western", "task", "commission", "judge", "senior", "president", "chief", "director", "commander",
    "official", "officials", "spokesperson", "minister", "ministry", "defense", "defence", "u.s.", "mr", "mrs",
    "ms", "dr", "gen", "lt", "col", "sgt"
})  # fmt: skip

# The noun a "what"/"which" question asks about decides the kind of answer.
_HEAD_KINDS = {
    "number": "penalty penalties amount fine fines sentence sum total recovery recoveries money number percentage "
    "price cost damages restitution forfeiture settlement",
    "date": "date day",
    "place": "country countries city cities province provinces district districts place state states village "
    "location base",
    "person": "official officials leader leaders commander commanders head officer officers minister ministers "
    "spokesperson spokesman director chief person people administrator creator deputy judge attorney "
    "prosecutor secretary general president founder man woman",
}
HEAD_KIND: dict[str, AnswerKind] = {word: kind for kind, words in _HEAD_KINDS.items() for word in words.split()}  # type: ignore[misc]
_LIST_COUNT = re.compile(
    r"\b(?:which|what|name|list)\s+(?:the\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\b"
)
_PLURAL_HEAD = re.compile(
    r"\b(?:which|what)\s+(?:[a-z-]+\s+){0,3}?(?!(?:was|has|is|does|this|its|his)\b)([a-z]+s)\s+"
    r"(?:did|were|have|had|are|do|took|[a-z]+ed)\b"
)
_HOW = re.compile(r"\bhow\s+(many|much|long|old)\b(.*)")
_WH = re.compile(r"\b(who|whom|whose|when|where|what|which)\b(.*)")


@dataclass(frozen=True, slots=True)
class QuestionType:
    """``kind`` of answer wanted; ``focus``: stemmed words a count should stand beside
    ("how many *children*"); ``money`` when an amount of money may be it ("how much",
    "what penalty"); ``wants_list`` for "which three publishers"; ``imposed_term`` when it
    asks for the prison term someone was given ("what sentence did he receive"); ``age``
    for "how old"."""

    kind: AnswerKind
    focus: frozenset[str] = frozenset()
    money: bool = False
    wants_list: bool = False
    imposed_term: bool = False
    age: bool = False


# A question about a prison term, and one about the most it could be ("faces up to").
_PRISON_TERM = re.compile(
    r"\bsentence[sd]?\b|\bprison term\b|\b(?:years|months)\s+(?:in|of)\s+(?:prison|jail|imprisonment)\b"
    r"|\b(?:how long|receive[sd]?|get|got|given|serve)\b.*\b(?:prison|jail|imprisonment)\b",
    re.IGNORECASE,
)
_POSSIBLE = re.compile(r"\b(?:faces?|facing|maximum|minimum|up to|could|would|if convicted)\b", re.IGNORECASE)
# A sentence that says a term was given: "was sentenced to", "sentenced him to", "ordered to serve".
IMPOSED = re.compile(
    r"\b(?:was|were|been|being|is|are)\s+(?:also\s+)?sentenced\b(?!\s+to\s+up\s+to)"
    r"|(?<!be )\bsentenced\s+(?:\w+\s+){0,3}?to\b(?!\s+up\s+to)"
    r"|\bordered\s+(?:\w+\s+)?to\s+serve\b",
    re.IGNORECASE,
)


def question_type(question: str) -> QuestionType:
    """The kind of answer ``question`` asks for.

    >>> question_type("How many children were present?").focus
    frozenset({'children'})
    """
    lowered = question.lower()
    wants_list = bool(_LIST_COUNT.search(lowered) or _PLURAL_HEAD.search(lowered))
    how = _HOW.search(lowered)
    wh = _WH.search(lowered)
    imposed = bool(_PRISON_TERM.search(question)) and not _POSSIBLE.search(question)
    if how and (not wh or how.start() <= wh.start()):
        measure = how.group(1)  # how many, much, long, old
        return QuestionType(
            "number", _noun_phrase(how.group(2)), measure == "much", wants_list, imposed, age=measure == "old"
        )
    if not wh:
        return QuestionType("other", wants_list=wants_list)
    word, rest = wh.group(1), wh.group(2)
    if word == "when":
        return QuestionType("date", wants_list=wants_list)
    if word == "where":
        return QuestionType("place", wants_list=wants_list)
    if word in {"who", "whom", "whose"}:
        return QuestionType("person", wants_list=wants_list)
    following = re.findall(r"[a-z]+", rest)
    if following[:3] in (["is", "the", "name"], ["was", "the", "name"]) and "of" in following[3:5]:
        following = following[following.index("of", 3) + 1 :]  # "what was the name of the leader": the leader
    # "Which five mortgage servicers": the answer stands beside "servicers".
    focus = _noun_phrase(rest) if word == "which" else frozenset()
    for head in following[:6]:
        if head in HEAD_KIND:
            kind = HEAD_KIND[head]
            return QuestionType(
                kind, focus, money=kind == "number", wants_list=wants_list, imposed_term=imposed and kind == "number"
            )
    # "Which drug", "which publishers", "what was the operation called": a name.
    named = {"name", "called", "operation", "investigation"}
    kind = "name" if word == "which" or named & set(following) else "other"
    return QuestionType(kind, focus, wants_list=wants_list)


# Verbs that end the noun phrase of "how many servicemen took part".
_COMMON_VERBS = set({
    "took", "take", "takes", "got", "get", "made", "make", "went", "go", "came", "come", "fell", "fall", "left",
    "died", "killed"
})  # fmt: skip
_YEAR = re.compile(r"(?:19|20)\d\d")
# A month the question names as a time: "in February 2009", "in February and in October".
_MONTH_OF_YEAR = re.compile(rf"\b(?:in|of|during|since|until|by)\s+{MONTHS}(?!\s+\d{{1,2}}\b)", re.IGNORECASE)
_PHRASE_END = {"did", "was", "were", "had", "has", "have", "do", "does", "in", "is", "are", "of", "the", "to", "for"}


def _noun_phrase(text: str) -> frozenset[str]:
    """Stems of the words that open ``text`` up to its verb: "felony charges did ..." ->
    {feloni, charg}; counts ("five") are left out."""
    stems = []
    for word in re.findall(r"[a-z]+", text)[:4]:
        if word in _PHRASE_END or word in _COMMON_VERBS or (word.endswith("ed") and len(word) > 4):
            break
        if len(word) > 1 and word not in STOPWORDS and not re.fullmatch(NUMBER_WORDS, word):  # "u.s.": nothing
            stems.append(stem(word))
    return frozenset(stems)


def quantities(sentence: str) -> list[tuple[int, str]]:
    """Counts and amounts in ``sentence`` with their offsets; dates and years are not counts."""
    blanked = DATELIKE.sub(lambda match: " " * len(match.group()), sentence)
    return [(match.start(), match.group()) for match in QUANTITY.finditer(blanked)]


@dataclass(frozen=True, slots=True)
class Name:
    """A name in a sentence: ``words`` not known from the question nor titles, and where
    it stands (``start``/``end`` offsets, the ``before`` words)."""

    words: tuple[str, ...]
    text: str
    start: int
    end: int
    before: tuple[str, ...]


def names(sentence: str, known: set[str]) -> list[Name]:
    """Names of people or things in ``sentence`` with words that are not in ``known``
    (the question's own words, lower-cased) nor offices, titles or months."""
    found = []
    for match in NAME.finditer(sentence):
        if match.start() == 0 and " " not in match.group():
            continue  # a capital that only starts the sentence
        new = tuple(
            word
            for word in match.group().split()
            if word.lower().strip(".") not in NOT_A_NAME and word.lower() not in known
        )
        if new:
            before = tuple(re.findall(r"[A-Za-z.]+", sentence[: match.start()].lower())[-3:])
            found.append(Name(new, match.group(), match.start(), match.end(), before))
    return found


# Words that show a name is a person's: titles before it, or "said" beside it.
PERSON_CUES = frozenset({
    "mr", "mrs", "ms", "dr", "judge", "administrator", "director", "attorney", "general", "secretary", "commander",
    "mullah", "maulawi", "mawlawi", "qari", "haji", "officer", "agent", "chief", "president", "minister",
    "spokesperson", "spokesman", "colonel", "col", "gen", "lt", "sgt", "governor", "leader", "deputy", "chairman",
    "ceo", "founder", "defendant", "commissioner", "inspector", "senator", "sen", "rep", "ambassador", "prosecutor",
    "mayor", "councilor", "councillor", "said", "says", "named", "identified"
})  # fmt: skip
# Titles that, right before a name, make it a person's ("Judge Jorge Solis").
PERSON_TITLES = PERSON_CUES - {"said", "says", "named", "identified", "defendant", "leader", "founder"}
# Words before a name that make it a place.
PLACE_CUES = frozenset(["in", "from", "to", "at", "near", "into", "across"])


def is_person(name: Name, sentence: str) -> bool:
    """A name with an initial ("Michele M. Leonhart"), a title ("Judge Jorge Solis"), a
    "said" beside it or an age after it, is a person's."""
    words = [word.lower().strip(".,") for word in name.text.split()]
    following = sentence[name.end : name.end + 40]
    after = re.findall(r"[a-z]+", following.lower())[:4]
    after = after if after[:1] in (["was"], ["is"]) else after[:1]  # "Zubair was a Taliban leader"
    return (
        any(re.fullmatch(r"[A-Z]\.", word) for word in name.text.split())
        or bool(PERSON_CUES & {*words, *name.before, *after})
        or bool(re.match(r"(?:\s+aka\s+[^,]+)?,\s*\d{2},", following))  # an age: "Alexandre Cazes, 25,"
    )


def key_terms(question: str) -> list[str]:
    """The stemmed content words of ``question``, without the time it names (checked apart:
    "in February 2009" need not be written in the release) and the adverb of "how
    long/old/far/often"."""
    question = re.sub(r"\bhow\s+(?:long|old|far|often)\b", " ", question, flags=re.IGNORECASE)
    question = _MONTH_OF_YEAR.sub(" ", question)
    return list(dict.fromkeys(term for term in content_terms(question) if not _YEAR.fullmatch(term)))


# Words that open a message without naming anything: requests, chat words, common nouns a
# follow-up starts with ("Tell me ...", "Source?", "Latest news on ...", "Total ...").
OPENING_WORDS = frozenset({
    "tell", "give", "show", "list", "find", "name", "please", "explain", "describe", "summarize", "summarise",
    "compare", "any", "all", "source", "sources", "detail", "details", "summary", "more", "thanks", "thank",
    "ok", "okay", "yes", "no", "sure", "number", "same", "total", "count", "latest", "recent", "news", "quote",
    "quotes", "link", "links", "date", "dates", "example", "examples", "again", "really", "elaborate",
    "continue", "context", "background", "other", "another", "next", "previous", "earlier", "later", "first",
    "last", "can", "could", "would", "should", "will", "may", "might", "is", "are", "was", "were", "do", "does",
    "did", "has", "have", "had"
})  # fmt: skip


def opens_only(word: str) -> bool:
    """Whether ``word``, opening a message, only opens it ("Who", "Was", "Source"): no name."""
    lowered = word.lower().rstrip(".")
    return lowered in STOPWORDS or lowered in OPENING_WORDS


def entity_terms(question: str) -> list[str]:
    """Stemmed words of the names in ``question`` (capitalised words past its first, not
    titles or offices): "Paul Manafort" -> [paul, manafort].  A fragment without a question
    word may open with a name ("Boeing fine?")."""
    fragment = not re.search(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", question, re.IGNORECASE)
    terms: list[str] = []
    for match in re.finditer(r"\b[A-Z][\w'\u2019.-]*", question):
        word = match.group().lower().rstrip(".")
        opening = match.start() == len(question) - len(question.lstrip())
        if opening and not (fragment and not opens_only(word)):
            continue
        if word in NOT_A_NAME:
            continue
        terms.extend(term for term in content_terms(match.group()) if not _YEAR.fullmatch(term))
    return list(dict.fromkeys(terms))
