"""Follow-ups in a conversation ("and in 2022?", "who announced it?") rewritten into
questions that stand alone, so retrieval and the answer see what the user means.

A message leans on the conversation only when it does not name its own subject: a fragment
opened by "and" or "what about", a short question that points back ("who announced it?"),
a fragment with no name the topic question lacks ("in 2022?").  A message that names what
it asks about ("Boeing fine?", "How long was Elizabeth Holmes sentenced?") starts a new
topic, and a long one (a pasted paragraph) is never merged, nor merged into.

A leaning message is merged into the topic question, the last message that stood alone,
never into a chain of earlier merges.  Without a language model the merge is plain: a time
in the fragment replaces the time of the topic question ("Which exercises ... in 2021?" +
"and in 2022?" -> "Which exercises ... in 2022?"); another fragment is added to it; a
question that points back carries it along ("who announced it, regarding: ...").  With a
language model, the model rewrites any short message, shown the topic question and what
followed it, and keeps one that starts a new topic as it is; a long message or a question
asked in full is never sent to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pressqa.errors import ConfigError
from pressqa.query.question import opens_only
from pressqa.query.timeparse import parse_time

Message = Mapping[str, Any]
_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
# Words that point back at the conversation; a demonstrative before a time ("this year") does not.
_LEANS_BACK = re.compile(
    r"\b(?:it|its|they|them|their|he|she|him|her|his|there|same|then|also)\b"
    r"|\b(?:this|these|those)\b(?!\s+(?:year|month|week|day|morning|time|summer|winter|spring|autumn|fall)s?\b)"
    r"|\b(?:about|of|after|before|on|in|at|for|with|since)\s+that\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(r"\s*(?:is|are|was|were|did|does|do|can|could|has|have|had|will|would|should)\s+\w", re.IGNORECASE)
_FRAGMENT_LEAD = re.compile(r"^\s*(?:and|but|also|so|what about|how about|and what about)\b[\s,]*", re.IGNORECASE)
# A capitalised word, an acronym, or a name with digits ("Vostok-2022").
_NAME = re.compile(r"\b[A-Z][\w'\u2019.-]*")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_LEAD = re.compile(r"(?:in|during|for|of|since|from|by|until|before|after)\s+", re.IGNORECASE)
# Questions with at least this many words and no word leaning back stand alone.
STANDALONE_WORDS = 6
# A message longer than this is never merged with another (a pasted paragraph is its own question).
LONG_MESSAGE_CHARS = 300

REWRITE_PROMPT = """Rewrite the last user message of this conversation as one question that can be understood \
without the conversation. Keep names, places and dates; change nothing else. If the last message asks about \
something new and needs nothing from the conversation, reply with it unchanged. Reply with the question only.

{history}

Standalone question:"""


def user_questions(messages: Sequence[Message]) -> list[str]:
    """The user's messages, oldest first (``{"role": "user", "content": ...}``, as chat
    UIs and the OpenAI API write them)."""
    return [str(message["content"]).strip() for message in messages if message.get("role") == "user"]


def standalone_question(messages: Sequence[Message], complete: Callable[[str], str] | None = None) -> str:
    """The last user message as a question that stands alone.  A user message marked
    ``"standalone": True`` (the page's "ask as a new question") is taken as it is.

    >>> standalone_question([{"role": "user", "content": "Which exercises did Russia join in China in 2021?"},
    ...                      {"role": "assistant", "content": "..."},
    ...                      {"role": "user", "content": "And in 2022?"}])
    'Which exercises did Russia join in China in 2022?'
    """
    said = [message for message in messages if message.get("role") == "user"]
    if not said:
        raise ConfigError("the conversation has no user message to answer")
    last = str(said[-1]["content"]).strip()
    topic = topic_question(said[:-1])
    if topic is None or said[-1].get("standalone") or len(last) > LONG_MESSAGE_CHARS or asks_in_full(last):
        return last
    if complete is not None:  # the model judges a short message better than the rules: "Did Russia join?"
        since = max(at for at, message in enumerate(messages) if str(message.get("content", "")).strip() == topic)
        history = "\n".join(f"{message['role']}: {message['content']}" for message in messages[since:])
        rewritten = complete(REWRITE_PROMPT.format(history=history)).strip().strip('"')
        return rewritten or last
    return last if stands_alone(last, topic) else merged(topic, last)


def topic_question(said: Sequence[Message]) -> str | None:
    """The question the conversation is about after the user messages ``said``: the last
    that stood alone (None after a long message, which nothing is merged into)."""
    topic = None
    for message in said:
        question = str(message["content"]).strip()
        if len(question) > LONG_MESSAGE_CHARS:
            topic = None
        elif topic is None or message.get("standalone") or stands_alone(question, topic):
            topic = question
    return topic


def stands_alone(message: str, topic: str) -> bool:
    """Whether ``message``, said after ``topic``, is a question of its own."""
    if len(message) > LONG_MESSAGE_CHARS:
        return True
    if _FRAGMENT_LEAD.match(message) or _LEANS_BACK.search(message):
        return False  # "and in 2022?", "what about Belarus?", "what did Zelensky say about it?"
    known = {word.lower() for word in re.findall(r"[\w'\u2019.-]+", topic)}
    if any(name.lower().rstrip(".") not in known for name in _names(message)):
        return True  # it names what it asks about: "Boeing fine?"
    return asks_in_full(message)


def asks_in_full(message: str) -> bool:
    """A question of its own words, whatever came before: a question word, at least
    ``STANDALONE_WORDS`` words, none that points back ("it", "that", "these")."""
    is_question = bool(_WH.search(message)) and not _FRAGMENT_LEAD.match(message)
    return is_question and len(message.split()) >= STANDALONE_WORDS and not _LEANS_BACK.search(message)


def _names(message: str) -> list[str]:
    """Capitalised words of ``message``: names, but for an opening word that only opens it
    ("Who ...", "Was it ...", "Source?"): "Boeing fine?" names Boeing."""
    found = [match for match in _NAME.finditer(message) if not _YEAR.fullmatch(match.group())]
    opening = found[0] if found and found[0].start() == len(message) - len(message.lstrip()) else None
    if opening is not None and opens_only(opening.group()):
        found = found[1:]
    return [match.group() for match in found]


def merged(topic: str, follow_up: str) -> str:
    """``follow_up`` read against the topic question it leans on."""
    asked = _FRAGMENT_LEAD.sub("", follow_up)  # "what about 2019?" is a fragment
    if _WH.search(asked) or _YES_NO.match(asked):  # "who announced it?", "was it a plea deal?"
        return f"{follow_up.rstrip(' ?')}, regarding: {topic}"
    fragment = _FRAGMENT_LEAD.sub("", follow_up).rstrip(" ?.!")
    old_time = parse_time(topic)
    new_time = parse_time(fragment) or parse_time(f"in {fragment}")  # "what about 2022?"
    if new_time and old_time:
        said = new_time.phrase if new_time.phrase in fragment else new_time.phrase.removeprefix("in ")
        rest = " ".join(fragment.replace(said, " ", 1).split())  # "in Belarus" of "in 2022 in Belarus"
        rest = "" if rest in {"in", "for", "during", "of"} else rest  # the time's own preposition
        phrase = new_time.phrase
        year = _YEAR.search(phrase)
        if new_time.kind == "year" and year and old_time.kind in ("year", "fiscal-year"):
            # Another year of the same kind of time: "fiscal year 2021" + "and 2019?"
            phrase = _YEAR.sub(year.group(), old_time.phrase, count=1)
        lead = _LEAD.match(old_time.phrase)
        if lead and not _LEAD.match(phrase):
            phrase = lead.group() + phrase  # "in 2021" -> "in fiscal year 2019", not "fiscal year 2019"
        elif not lead:
            phrase = _LEAD.sub("", phrase, count=1) if _LEAD.match(phrase) else phrase  # "in March 2021": "in" stays
        standing = topic.replace(old_time.phrase, phrase, 1)
        return f"{standing.rstrip(' ?')} {rest}?" if rest else standing
    return f"{topic.rstrip(' ?')} {fragment}?"
