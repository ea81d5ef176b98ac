"""Hybrid search: dense (Chroma) and keyword (bm25s) candidates fused by reciprocal rank."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pressqa.embedding import Embedder
from pressqa.store import Store, release_of
from pressqa.types import Hit

# Reciprocal rank fusion constant from Cormack et al. (2009); 60 is the usual choice.
RRF_K = 60


def reciprocal_rank_fusion(*rankings: list[str], k: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked id lists: each id scores the sum of 1/(k + rank) over the lists it is in."""
    scores: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] += 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def hybrid_search(store: Store, embedder: Embedder, query: str, k: int = 5) -> list[Hit]:
    """The ``k`` best passages for ``query``, one per release group (copies collapse into
    their canonical release)."""
    if store.chunks.count() == 0:
        return []
    depth = max(4 * k, 20)
    vector = embedder.embed([query])[0]
    dense = store.chunks.query(query_embeddings=[vector], n_results=depth, include=[])["ids"][0]
    keyword = [chunk_id for chunk_id, _ in store.keyword.search(query, depth)]
    fused = reciprocal_rank_fusion(dense, keyword)
    records = store.chunks.get(ids=[chunk_id for chunk_id, _ in fused], include=["documents", "metadatas"])
    found: dict[str, tuple[str, Mapping[str, Any]]] = dict(
        zip(records["ids"], zip(records["documents"] or [], records["metadatas"] or [], strict=True), strict=True)
    )
    states = store.registry.states(list({str(metadata["doc_id"]) for _, metadata in found.values()}))
    hits: list[Hit] = []
    groups_seen: set[str] = set()
    for chunk_id, score in fused:
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
