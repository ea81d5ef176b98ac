"""Hybrid search: dense (Chroma) and keyword (bm25s) candidates, filtered alike, fused by
reciprocal rank, favouring releases published when the question says."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pressqa.embedding import Embedder
from pressqa.retrieve.rerank import Reranker
from pressqa.store import Store, chroma_where, release_of
from pressqa.types import Hit, QueryPlan, SearchFilters, TimeSpan

# Reciprocal rank fusion constant from Cormack et al. (2009); 60 is the usual choice.
RRF_K = 60
# Added to the fused score of a chunk published in the window the question names (a
# top-ranked chunk scores about 0.03).  On the 36 answerable dev questions, hit@1 rose
# from 29 to 35 (0.01: 34; a hard filter on the same window: 35); hit@5 stayed 36.  A
# boost, unlike a filter, still finds a December release announcing next year's events.
TIME_BOOST = 0.02
# Added for a chunk of an issuer the question names (a softer hint than a time).
ISSUER_BOOST = 0.01
# Releases report events on the day or after: how long after a span its news still counts.
PUBLICATION_LAG = {
    "day": dt.timedelta(days=7),
    "month": dt.timedelta(days=31),
    "year": dt.timedelta(days=62),
    "range": dt.timedelta(days=62),
    "fiscal-year": dt.timedelta(days=150),
    "open": dt.timedelta(0),
}


def reciprocal_rank_fusion(*rankings: list[str], k: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked id lists: each id scores the sum of 1/(k + rank) over the lists it is in."""
    scores: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] += 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def publication_filter(span: TimeSpan) -> SearchFilters:
    """Admits the releases published when news of ``span`` comes out."""
    since, until = publication_window(span)
    return SearchFilters(since=since, until=until)


def publication_window(span: TimeSpan) -> tuple[dt.date | None, dt.date | None]:
    """The publication dates of releases likely to report on ``span``."""
    end = later(span.end, PUBLICATION_LAG[span.kind]) if span.end else None
    if span.kind == "fiscal-year" and span.end:
        # A fiscal year is asked about for its totals, announced in the months after it
        # ends; inside it fall the announcements of the year before.
        return later(span.end, dt.timedelta(days=1)), end
    return span.start, end


def later(day: dt.date, delta: dt.timedelta) -> dt.date:
    """``day + delta``, held at the last representable day (a span can end on 9999-12-31)."""
    return day + min(delta, dt.date.max - day)


def hybrid_search(
    store: Store, embedder: Embedder, plan: QueryPlan, k: int = 5, reranker: Reranker | None = None
) -> list[Hit]:
    """The ``k`` best passages for a planned question, one per duplicate group: the canonical
    release's passage, listing the copies (a copy stands in when the filters exclude the
    canonical release).  Both retrievers honour ``plan.filters``.  A ``reranker`` reorders
    the fused candidates."""
    if not store.registry.summary()["chunks"]:  # the registry is local: no trip to a Chroma server
        return []
    depth = max(4 * k, 20)
    vector = embedder.embed([plan.question])[0]
    where = chroma_where(plan.filters)
    nearest = store.chunks.query(
        query_embeddings=[vector], n_results=depth, where=where, include=["documents", "metadatas"]
    )
    dense = nearest["ids"][0]
    keyword = [chunk_id for chunk_id, _ in store.keyword.search(plan.question, depth, plan.filters)]
    fused = dict(reciprocal_rank_fusion(dense, keyword))
    if not fused:
        return []
    found: dict[str, tuple[str, Mapping[str, Any]]] = {
        chunk_id: (document, metadata)
        for chunk_id, document, metadata in zip(
            dense, (nearest["documents"] or [[]])[0], (nearest["metadatas"] or [[]])[0], strict=True
        )
        if metadata is not None  # a chunk deleted a moment ago can still come back from the vector index
    }
    keyword_only = [chunk_id for chunk_id in keyword if chunk_id not in found]
    if keyword_only:  # one more trip, for the passages only the keyword index found
        records = store.chunks.get(ids=keyword_only, include=["documents", "metadatas"])
        found.update(
            zip(records["ids"], zip(records["documents"] or [], records["metadatas"] or [], strict=True), strict=True)
        )
    window = publication_filter(plan.time) if plan.time is not None and plan.time_use == "boost" else None
    favoured = set(plan.issuers) if plan.issuers_use == "boost" else set()
    boosts = dict.fromkeys(found, 0.0)
    for chunk_id, (_, metadata) in found.items():
        release = release_of(metadata)
        if window and window.admits(release.date, None):
            boosts[chunk_id] += TIME_BOOST
        if release.source in favoured:
            boosts[chunk_id] += ISSUER_BOOST
    if reranker is not None:
        # The reranker's order takes the place of the retrievers' fused one; the time and
        # issuer read from the question are still favoured on top of it.
        candidates = sorted(found, key=lambda chunk_id: (-fused[chunk_id], chunk_id))
        scores = reranker.score(plan.question, [found[chunk_id][0] for chunk_id in candidates])
        order = sorted(range(len(candidates)), key=lambda at: -scores[at])  # stable: fused order breaks ties
        fused = {candidates[at]: 1.0 / (RRF_K + rank) for rank, at in enumerate(order, 1)}
    for chunk_id, boost in boosts.items():
        fused[chunk_id] = fused.get(chunk_id, 0.0) + boost
    ranked = sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
    states = store.registry.states(list({str(metadata["doc_id"]) for _, metadata in found.values()}))
    hits: list[Hit] = []
    groups_seen: set[str] = set()
    for chunk_id, score in ranked:
        if chunk_id not in found:  # the keyword index can trail a delete by another process
            continue
        document, metadata = found[chunk_id]
        doc_id = str(metadata["doc_id"])
        version, canonical = states.get(doc_id, ("", None))
        if metadata.get("version") != version:  # a version an interrupted write left behind
            continue
        group = canonical or doc_id
        if group in groups_seen:
            continue
        groups_seen.add(group)
        if group != doc_id:
            original = _canonical_passage(store, plan.filters, group, document)
            if original is not None:
                chunk_id, document, metadata = original
                doc_id = group
        copies = tuple(member for member in [group, *store.registry.copies_of(group)] if member != doc_id)
        release = release_of(metadata)
        hits.append(
            Hit(
                doc_id=doc_id,
                chunk_id=chunk_id,
                title=release.title,
                text=document,
                start=int(metadata["start"]),
                end=int(metadata["end"]),
                score=score,
                source=release.source,
                date=release.date,
                url=release.url,
                copies=copies,
            )
        )
        if len(hits) == k:
            break
    return hits


def _canonical_passage(
    store: Store, filters: SearchFilters, canonical: str, passage: str
) -> tuple[str, str, Mapping[str, Any]] | None:
    """The canonical release's chunk closest in wording to a copy's ``passage``, if the
    filters admit that release: answers then cite the original, not a wire copy."""
    chunks = store.current_chunks([canonical])
    if not chunks:
        return None
    release = release_of(chunks[0][2])
    if not filters.admits(release.date, release.source):
        return None
    words = set(passage.lower().split())
    return max(chunks, key=lambda chunk: len(words & set(chunk[1].lower().split())))
