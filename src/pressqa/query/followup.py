"""Follow-ups in a conversation ("and in 2022?", "who announced it?") rewritten into
questions that stand alone, so retrieval and the answer see what the user means.

Without a language model the rules are few and visible: a fragment that names a time
replaces the time of the question before ("Which exercises ... in 2021?" + "and in 2022?"
-> "Which exercises ... in 2022?"); another fragment is added to the question before; a
question that leans on the one before ("it", "they", "that") carries it along.  With a
language model, it rewrites the follow-up instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pressqa.errors import ConfigError
from pressqa.query.timeparse import parse_time

Message = Mapping[str, Any]
_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
_LEANS_BACK = re.compile(
    r"\b(it|its|they|them|their|that|this|those|these|he|she|him|her|his|there|same|then|also)\b", re.IGNORECASE
)
_FRAGMENT_LEAD = re.compile(r"^\s*(?:and|but|also|so|what about|how about|and what about)\b[\s,]*", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_LEAD = re.compile(r"(?:in|during|for|of|since|from|by|until|before|after)\s+", re.IGNORECASE)
# Questions with at least this many words and no word leaning back stand alone.
STANDALONE_WORDS = 6

REWRITE_PROMPT = """Rewrite the last user message of this conversation as one question that can be understood \
without the conversation. Keep names, places and dates; change nothing else. Reply with the question only.

{history}

Standalone question:"""


def user_questions(messages: Sequence[Message]) -> list[str]:
    """The user's messages, oldest first (``{"role": "user", "content": ...}``, as chat
    UIs and the OpenAI API write them)."""
    return [str(message["content"]).strip() for message in messages if message.get("role") == "user"]


def standalone_question(messages: Sequence[Message], complete: Callable[[str], str] | None = None) -> str:
    """The last user message as a question that stands alone.

    >>> standalone_question([{"role": "user", "content": "Which exercises did Russia join in China in 2021?"},
    ...                      {"role": "assistant", "content": "..."},
    ...                      {"role": "user", "content": "And in 2022?"}])
    'Which exercises did Russia join in China in 2022?'
    """
    questions = user_questions(messages)
    if not questions:
        raise ConfigError("the conversation has no user message to answer")
    if len(questions) == 1:
        return questions[0]
    if complete is not None:
        history = "\n".join(f"{message['role']}: {message['content']}" for message in messages)
        rewritten = complete(REWRITE_PROMPT.format(history=history)).strip().strip('"')
        return rewritten or questions[-1]
    standing = questions[0]
    for follow_up in questions[1:]:
        standing = _rewrite(standing, follow_up)
    return standing


def _rewrite(previous: str, follow_up: str) -> str:
    words = follow_up.split()
    is_question = bool(_WH.search(_FRAGMENT_LEAD.sub("", follow_up)))  # "what about 2019?" is a fragment
    if is_question and len(words) >= STANDALONE_WORDS and not _LEANS_BACK.search(follow_up):
        return follow_up
    if not is_question:
        fragment = _FRAGMENT_LEAD.sub("", follow_up).rstrip(" ?.!")
        old_time = parse_time(previous)
        new_time = parse_time(fragment) or parse_time(f"in {fragment}")  # "what about 2022?"
        if new_time and old_time:
            said = new_time.phrase if new_time.phrase in fragment else new_time.phrase.removeprefix("in ")
            rest = " ".join(fragment.replace(said, " ", 1).split())  # "in Belarus" of "in 2022 in Belarus"
            rest = "" if rest in {"in", "for", "during", "of"} else rest  # the time's own preposition
            phrase = new_time.phrase
            year = _YEAR.search(phrase)
            if new_time.kind == "year" and year and _YEAR.search(old_time.phrase):
                # Another year of the same kind of time: "fiscal year 2021" + "and 2019?"
                phrase = _YEAR.sub(year.group(), old_time.phrase, count=1)
            lead = _LEAD.match(old_time.phrase)
            if lead and not _LEAD.match(phrase):
                phrase = lead.group() + phrase  # "in 2021" -> "in fiscal year 2019", not "fiscal year 2019"
            standing = previous.replace(old_time.phrase, phrase, 1)
            return f"{standing.rstrip(' ?')} {rest}?" if rest else standing
        return f"{previous.rstrip(' ?')} {fragment}?"
    return f"{follow_up.rstrip(' ?')}, regarding: {previous}"
