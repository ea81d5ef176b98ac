"""The releases that answer a question over releases (a timeline, the latest, a count): every
release in the question's scope (the period and issuers it names, enforced as filters, and
the filters given) whose text holds its subject, wire copies collapsed into their original.

Not the top k of a ranking: "how many releases" and "what did ISAF report in March" must
not depend on a cut-off.  A release holds the subject when its chunks hold most of the
subject's word weight (rare words weigh more, as in search): "Helmand province" needs
"Helmand", not "province", which most ISAF releases say.  A name of several words is
matched as a phrase: "Liberty Reserve", not "civil liberties" and "Federal Reserve".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from pressqa.query.plan import scope_filters
from pressqa.store import Store
from pressqa.text import content_terms
from pressqa.types import QueryPlan, Release

# Share of the subject's word weight a release must hold.  On the 45 dev timeline questions
# (subjects of two words, a rare and a common one) every share from 0.55 to 0.85 gives the
# same sets; 0.6 also lets one of three equally rare words be missing.
MIN_SUBJECT_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Match:
    """A release that holds the subject (``share`` of its word weight), standing for its
    duplicate group: the original when the scope admits it, and its ``copies``."""

    release: Release
    share: float
    copies: tuple[str, ...] = ()

    @property
    def date(self) -> dt.date | None:
        return self.release.date


def matching_releases(store: Store, plan: QueryPlan) -> list[Match]:
    """Every release in ``plan``'s scope that holds its subject, one per duplicate group,
    oldest first (undated last)."""
    filters = scope_filters(plan)
    terms = list(dict.fromkeys(filter(None, (" ".join(content_terms(part)) for part in plan.subject))))
    if terms:
        idf = store.idf({stem for term in terms for stem in term.split()})
        weights = {term: sum(idf[stem] for stem in term.split()) for term in terms}
        total = sum(weights.values()) or 1.0
        held = store.term_matches(terms, filters)
        shares = {doc_id: sum(weights[term] for term in found) / total for doc_id, found in held.items()}
        admitted = {doc_id: share for doc_id, share in shares.items() if share >= MIN_SUBJECT_SHARE}
        releases = store.releases(filters, list(admitted))
    else:  # "What did ISAF report in March 2011?": everything in the scope
        releases = store.releases(filters)
        admitted = {release.doc_id: 1.0 for release in releases}
    states = store.states([release.doc_id for release in releases])
    groups: dict[str, list[Release]] = {}
    for release in releases:  # oldest first: the first in scope stands in for a missing original
        canonical = states.get(release.doc_id, ("", None))[1] or release.doc_id
        groups.setdefault(canonical, []).append(release)
    matches = []
    for canonical, members in groups.items():
        lead = next((member for member in members if member.doc_id == canonical), members[0])
        copies = tuple(doc_id for doc_id in [canonical, *store.copies_of(canonical)] if doc_id != lead.doc_id)
        share = max(admitted[member.doc_id] for member in members)
        matches.append(Match(lead, share, copies))
    return sorted(matches, key=lambda match: (match.date is None, match.date or dt.date.min, match.release.doc_id))


def per_month(matches: list[Match]) -> dict[str, int]:
    """How many of ``matches`` were published each month ("2011-03": 11), oldest first."""
    months = Counter(f"{match.date:%Y-%m}" for match in matches if match.date)
    return dict(sorted(months.items()))
