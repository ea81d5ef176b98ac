"""Releases whose chunks are in Chroma but not in the registry, given back to the registry.

``pressqa check --repair`` does this when the registry was lost, damaged, emptied or
restored from an older backup: every release whose chunks are all in Chroma is registered
again as an ingest would have registered it (the same fingerprints, the same duplicate
groups), without embedding anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from pressqa.ingest.dedupe import Deduper
from pressqa.ingest.metadata import text_hash
from pressqa.store import DuplicateMatch, Store, StoredChunk, StoredRelease, assemble_text
from pressqa.types import Chunk


def adopt(store: Store, deduper: Deduper, groups: Sequence[Sequence[StoredChunk]]) -> None:
    """Register the releases of ``groups`` (each every chunk of one release's version)."""
    stored = [_stored(chunks, deduper) for chunks in groups]
    # Matched oldest first, as the ingests that wrote them would have met them.
    stored.sort(key=lambda item: (item.release.date is None, item.release.date or dt.date.min, item.release.doc_id))
    deduper.add_many(store.fingerprints())
    links: list[DuplicateMatch] = []
    for item in stored:
        doc_id = item.release.doc_id
        match = deduper.match(doc_id, item.text_hash, item.minhash)
        if match:
            links.append((doc_id, *match))
        deduper.add(doc_id, item.text_hash, item.minhash)
    store.register(stored, links)


def _stored(chunks: Sequence[StoredChunk], deduper: Deduper) -> StoredRelease:
    ordered = sorted(chunks, key=lambda chunk: chunk.index)
    first = ordered[0].metadata
    text = assemble_text(ordered)
    distributed = first.get("distributed_at")
    release = dataclasses.replace(
        ordered[0].release,
        text=text,
        origin=str(first.get("origin", "")),
        distributed_at=dt.datetime.fromisoformat(distributed) if distributed else None,
    )
    pieces = tuple(
        Chunk(chunk.chunk_id, release.doc_id, chunk.index, chunk.text, chunk.start, chunk.end) for chunk in ordered
    )
    # Chunks written before the first one kept the full hash carry only its version, which
    # then stands for it (the next ingest of the same file re-embeds it once).
    content_hash = str(first.get("content_hash") or first["version"])
    return StoredRelease(release, pieces, content_hash, text_hash(text), deduper.signature(text))
