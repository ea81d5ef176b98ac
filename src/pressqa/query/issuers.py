"""Issuer mentions in a question ("China's defense ministry", "the Justice Department", "ISAF"),
matched against the issuers actually present in the archive.

A mention needs an organisation word that the issuer's name also has (ministry,
department, senator, ...) or one of the issuer's acronyms; then the issuer whose
distinctive words the question shares most wins.  "Russia" or "China" alone names a
country, not an issuer, so "Which exercises did Russia join in China?" infers nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile("[A-Za-z][A-Za-z.'\u2019]*")  # \u2019: the typographic apostrophe
# Words that make a phrase an organisation, when the issuer's name has them too.
ORGANISATION_WORDS = {
    "ministry", "department", "office", "force", "forces", "senator", "senate", "mayor", "city", "government",
    "embassy", "agency", "command", "council", "commission", "army", "navy", "police", "court", "attorney",
    "authority", "administration", "bureau", "service", "committee", "house",
}  # fmt: skip
# Words of an issuer's name that say nothing about which issuer it is.
GENERIC = ORGANISATION_WORDS | {
    "of", "the", "and", "for", "on", "public", "affairs", "people's", "republic", "federation", "u.s.", "us",
    "united", "states", "international", "national", "office", "press", "information",
}  # fmt: skip
COUNTRIES = {
    "china": "china", "chinese": "china", "prc": "china",
    "russia": "russia", "russian": "russia",
    "u.s.": "united-states", "american": "united-states", "america": "united-states",
    "afghanistan": "afghanistan", "afghan": "afghanistan",
    "ukraine": "ukraine", "ukrainian": "ukraine",
}  # fmt: skip
SPELLINGS = {"defence": "defense", "ministries": "ministry", "departments": "department"}


def _words(text: str) -> list[str]:
    words = []
    for raw in _WORD.findall(text):
        word = raw.lower().rstrip(".").removesuffix("'s").removesuffix("\u2019s")
        word = "u.s." if word in ("u.s", "u.s.") else word
        words.append(SPELLINGS.get(word, word))
    return words


def _acronyms(issuer: str) -> set[str]:
    """ISAF from "(ISAF)", NATO from "NATO ...", and DOJ-style initials ("Department of
    Justice") of a short name before its first comma."""
    found = set(re.findall(r"\(([A-Z]{2,})\)", issuer)) | set(re.findall(r"\b([A-Z]{3,})\b", issuer))
    words = re.findall(r"\b(?:[A-Z][a-z]+|of)\b", issuer.split(",")[0])
    for initials in ("".join(w[0] for w in words).upper(), "".join(w[0] for w in words if w != "of")):
        if 3 <= len(initials) <= 5:  # DOJ keeps the "of", FBI drops it
            found.add(initials)
    return found


_GENERIC_WORDS = set(_words(" ".join(GENERIC)))  # spelled as _words spells a name ("people's" -> "people")


# Words that hold a name of an organisation together: "Ministry of Defence of Japan".
_GLUE = {"of", "the", "for", "and"}


class IssuerMatcher:
    """Finds which of an archive's issuers a question names."""

    def __init__(self, issuers: Iterable[str]) -> None:
        self._profiles = []
        self._vocabulary = set(_GENERIC_WORDS)  # words an organisation's name may hold, lower-case
        for issuer in issuers:
            words = set(_words(issuer))
            countries = {COUNTRIES[word] for word in words if word in COUNTRIES}
            distinctive = words - _GENERIC_WORDS - set(COUNTRIES)
            self._profiles.append(
                (issuer, words & ORGANISATION_WORDS, distinctive, countries, _acronyms(issuer), words)
            )
            self._vocabulary |= words

    def _organisation_phrases(self, question: str) -> list[list[tuple[str, bool]]]:
        """Runs of words that may name an organisation ("Japan's Ministry of Defence", "the
        Chinese foreign ministry") and hold an organisation word: (word, capitalised) pairs."""
        runs: list[list[tuple[str, bool]]] = [[]]
        for at, raw in enumerate(_WORD.findall(question)):
            word = _words(raw)[0] if _words(raw) else raw.lower()
            capital = raw[0].isupper() and at > 0  # the first word is capitalised as a sentence's
            if capital or word in _GLUE or word in self._vocabulary or word in ORGANISATION_WORDS:
                runs[-1].append((word, capital))
                if raw.lower().endswith(("'s", "\u2019s")) and any(w in ORGANISATION_WORDS for w, _ in runs[-1]):
                    runs.append([])  # "the Justice Department's False Claims Act": what it owns is not its name
            elif runs[-1]:
                runs.append([])
        return [run for run in runs if any(word in ORGANISATION_WORDS for word, _ in run)]

    def match(self, question: str) -> tuple[str, ...]:
        """The issuers the question names (several when it cannot tell them apart), or ()."""
        sequence = _words(question)
        words = set(sequence)
        # A country counts only next to an organisation word: in "China's defense ministry
        # ... with Russia", the ministry is China's.
        near = {
            COUNTRIES[word]
            for at, word in enumerate(sequence)
            if word in COUNTRIES and any(other in ORGANISATION_WORDS for other in sequence[max(at - 4, 0) : at + 5])
        }
        capitals = set(re.findall(r"\b[A-Z]{2,}\b", question))
        phrases = self._organisation_phrases(question)
        scored: list[tuple[int, str]] = []
        for issuer, organisation, distinctive, issuer_countries, acronyms, name in self._profiles:
            if near and issuer_countries and not issuer_countries & near:
                continue  # "Ukraine's defense ministry" is no other country's
            by_acronym = bool(capitals & acronyms)
            if not by_acronym and phrases and all(_foreign(phrase, name, issuer_countries) for phrase in phrases):
                continue  # "the Ministry of Defence of Japan" is neither Russia's nor China's
            named = by_acronym or bool(organisation & words and distinctive & words)
            if named:
                score = bool(capitals & acronyms) + len(distinctive & words) + len(issuer_countries & near)
                scored.append((score, issuer))
        if not scored:
            return ()
        best = max(score for score, _ in scored)
        return tuple(sorted(issuer for score, issuer in scored if score == best))


def _foreign(phrase: list[tuple[str, bool]], name: set[str], countries: set[str]) -> bool:
    """Whether ``phrase`` holds a name the issuer's ``name`` lacks (a place, another body)."""
    return any(
        capital and word not in name and word not in _GENERIC_WORDS and COUNTRIES.get(word) not in countries
        for word, capital in phrase
    )


def issuer_words(issuers: Iterable[str]) -> set[str]:
    """The lower-case words a question may name these issuers by: the words of their names
    and their acronyms ("China's defense ministry", "ISAF's reports"); not the countries a
    name implies ("U.S." is no reason to drop "America" from "Bank of America")."""
    found: set[str] = set()
    for issuer in issuers:
        found |= set(_words(issuer)) | {acronym.lower() for acronym in _acronyms(issuer)}
    return found
