"""Exact and near-duplicate releases (wire copies, light edits), found at ingest time.

Exact copies share the hash of their case- and whitespace-folded body.  Near copies are
found by MinHash LSH (datasketch) over word 5-shingles; the estimated Jaccard similarity
must reach ``near_duplicate_threshold``.  The earliest-dated release of a group is its
canonical release; the others link to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from pressqa.types import DuplicateKind

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


class Deduper:
    """Index of every release's text hash and MinHash, answering "is this a copy of one we have?"."""

    def __init__(self, threshold: float, permutations: int) -> None:
        self.threshold = threshold
        self.permutations = permutations
        self._template = MinHash(num_perm=permutations)
        self._lsh = MinHashLSH(threshold=threshold, num_perm=permutations)
        self._by_text_hash: dict[str, list[str]] = {}  # every release with that exact text
        self._text_hash_of: dict[str, str] = {}
        self._signatures: dict[str, LeanMinHash] = {}

    def signature(self, text: str) -> bytes:
        words = _WORD.findall(text.lower())
        shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
        minhash = MinHash(
            num_perm=self.permutations, permutations=self._template.permutations, scheme=self._template.scheme
        )
        minhash.update_batch([shingle.encode() for shingle in shingles])
        return bytes(minhash.hashvalues.astype(np.uint32).tobytes())

    def add(self, doc_id: str, text_hash: str, signature: bytes) -> None:
        if self._text_hash_of.get(doc_id) != text_hash:
            self._by_text_hash.setdefault(text_hash, []).append(doc_id)
            self._text_hash_of[doc_id] = text_hash
        if doc_id not in self._signatures:
            minhash = self._lean(signature)
            self._signatures[doc_id] = minhash
            self._lsh.insert(doc_id, minhash)

    def add_many(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        for doc_id, text_hash, signature in rows:
            self.add(doc_id, text_hash, signature)

    def remove(self, doc_id: str) -> None:
        if self._signatures.pop(doc_id, None) is not None:
            self._lsh.remove(doc_id)
        text_hash = self._text_hash_of.pop(doc_id, None)
        if text_hash is not None:
            self._by_text_hash[text_hash].remove(doc_id)

    def match(self, doc_id: str, text_hash: str, signature: bytes) -> tuple[str, DuplicateKind, float] | None:
        """The release this one copies, as (doc_id, kind, similarity), or None."""
        exact = next((other for other in self._by_text_hash.get(text_hash, ()) if other != doc_id), None)
        if exact is not None:
            return exact, "exact", 1.0
        minhash = self._lean(signature)
        best: tuple[str, DuplicateKind, float] | None = None
        for candidate in self._lsh.query(minhash):
            if candidate == doc_id:
                continue
            similarity = float(minhash.jaccard(self._signatures[candidate]))
            if similarity >= self.threshold and (best is None or similarity > best[2]):
                best = (candidate, "near", similarity)
        return best

    def _lean(self, signature: bytes) -> LeanMinHash:
        return LeanMinHash(seed=1, hashvalues=np.frombuffer(signature, dtype=np.uint32), scheme=self._template.scheme)
