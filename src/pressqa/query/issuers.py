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
    "china": "china", "chinese": "china", "prc": "china", "beijing": "china",
    "russia": "russia", "russian": "russia", "moscow": "russia",
    "u.s.": "united-states", "american": "united-states", "america": "united-states",
    "afghanistan": "afghanistan", "afghan": "afghanistan",
    "ukraine": "ukraine", "ukrainian": "ukraine",
    "japan": "japan", "japanese": "japan", "korea": "korea", "korean": "korea",
    "taiwan": "taiwan", "taiwanese": "taiwan", "india": "india", "indian": "india",
    "pakistan": "pakistan", "pakistani": "pakistan", "iran": "iran", "iranian": "iran",
    "israel": "israel", "israeli": "israel", "turkey": "turkey", "turkish": "turkey",
    "france": "france", "french": "france", "germany": "germany", "german": "germany",
    "britain": "united-kingdom", "british": "united-kingdom", "u.k.": "united-kingdom",
    "italy": "italy", "italian": "italy", "spain": "spain", "spanish": "spain",
    "poland": "poland", "polish": "poland", "canada": "canada", "canadian": "canada",
    "australia": "australia", "australian": "australia", "mexico": "mexico", "mexican": "mexico",
    "brazil": "brazil", "brazilian": "brazil", "egypt": "egypt", "egyptian": "egypt",
    "syria": "syria", "syrian": "syria", "iraq": "iraq", "iraqi": "iraq", "vietnam": "vietnam",
    "vietnamese": "vietnam", "philippines": "philippines", "philippine": "philippines",
    "indonesia": "indonesia", "indonesian": "indonesia", "belarus": "belarus", "belarusian": "belarus",
    "kazakhstan": "kazakhstan", "mongolia": "mongolia", "mongolian": "mongolia",
}  # fmt: skip
SPELLINGS = {"defence": "defense", "ministries": "ministry", "departments": "department"}


def _words(text: str) -> list[str]:
    return [name_word(raw) for raw in _WORD.findall(text)]


def name_word(raw: str) -> str:
    """A word as issuer names are matched: lower case, no possessive, one spelling
    ("Defence" -> defense, "U.S" -> u.s.)."""
    word = raw.lower().rstrip(".").removesuffix("'s").removesuffix("\u2019s")
    word = "u.s." if word in ("u.s", "u.s.") else word
    return SPELLINGS.get(word, word)


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


class IssuerMatcher:
    """Finds which of an archive's issuers a question names."""

    def __init__(self, issuers: Iterable[str]) -> None:
        self._profiles = []
        for issuer in issuers:
            words = set(_words(issuer))
            countries = {COUNTRIES[word] for word in words if word in COUNTRIES}
            distinctive = words - _GENERIC_WORDS - set(COUNTRIES)
            self._profiles.append((issuer, words & ORGANISATION_WORDS, distinctive, countries, _acronyms(issuer)))

    def match(self, question: str) -> tuple[str, ...]:
        """The issuers the question names (several when it cannot tell them apart), or ()."""
        words = set(_words(question))
        # A country counts only in the name of an organisation: in "China's defense ministry
        # ... with Russia" the ministry is China's, and "the Ministry of Defence of Japan" is
        # neither Russia's nor China's.
        near = {COUNTRIES[word] for phrase in _organisation_phrases(question) for word in phrase if word in COUNTRIES}
        capitals = set(re.findall(r"\b[A-Z]{2,}\b", question))
        scored: list[tuple[int, str]] = []
        for issuer, organisation, distinctive, issuer_countries, acronyms in self._profiles:
            if near and issuer_countries and not issuer_countries & near:
                continue  # "Ukraine's defense ministry" is no other country's
            named = bool(capitals & acronyms) or bool(organisation & words and distinctive & words)
            if named:
                score = bool(capitals & acronyms) + len(distinctive & words) + len(issuer_countries & near)
                scored.append((score, issuer))
        if not scored:
            return ()
        best = max(score for score, _ in scored)
        return tuple(sorted(issuer for score, issuer in scored if score == best))


# Words that may stand in the name of an organisation between its organisation word and a
# country: "Japan's Ministry of Defence", "the Chinese foreign ministry".
_NAME_GLUE = {"of", "the", "for", "defense", "defence", "foreign", "affairs", "national", "justice", "state", "public"}


def _organisation_phrases(question: str) -> list[list[str]]:
    """Runs of words that may name an organisation and hold an organisation word ("Japan's
    Ministry of Defence", "the Ministry of Defence of Japan"); "and", a verb or a punctuation
    mark ends a run, so "the Justice Department say about the Japanese company" is two."""
    runs: list[list[str]] = [[]]
    for found in re.finditer(r"[A-Za-z][A-Za-z.'\u2019]*|[^\sA-Za-z]", question):
        raw = found.group()
        word = (_words(raw) or [""])[0]
        if raw[0].isupper() or word in ORGANISATION_WORDS or word in _NAME_GLUE or word in COUNTRIES:
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if any(word in ORGANISATION_WORDS for word in run)]


def issuer_words(issuers: Iterable[str]) -> set[str]:
    """The lower-case words a question may name these issuers by: the words of their names
    and their acronyms ("China's defense ministry", "ISAF's reports"); not the countries a
    name implies ("U.S." is no reason to drop "America" from "Bank of America")."""
    found: set[str] = set()
    for issuer in issuers:
        found |= set(_words(issuer)) | {acronym.lower() for acronym in _acronyms(issuer)}
    return found
