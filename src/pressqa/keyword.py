"""The keyword (BM25) index beside the Chroma collection, persisted with bm25s.

Chroma's own sparse index exists only in its cloud service, so pressqa keeps one here.
Each saved index records the registry generation it was built from; an index whose
generation lags the registry's is rebuilt from the collection, which makes a crash
between a Chroma write and an index save harmless.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from pressqa.fsutil import atomic_write_text
from pressqa.types import SearchFilters, date_int

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

_STEMMER = Stemmer.Stemmer("english")


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    tokenized: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return tokenized


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One saved index, whole: searches read it once, and a reload swaps in another whole."""

    bm25: bm25s.BM25 | None = None
    ids: list[str] = field(default_factory=list)
    # Per chunk, for filtering by array operations: its release's date as YYYYMMDD (0 if
    # undated) and its issuer as an index into source_names (-1 if unknown).
    date_ints: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    source_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    source_names: list[str] = field(default_factory=list)
    generation: int = -1
    folder: str = ""  # the gen-N folder it was loaded from or saved to


class KeywordIndex:
    """BM25 over chunk texts.  ``folder/CURRENT`` names the live ``gen-N`` subfolder, so a
    save is one atomic rename and a reader never sees half an index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loaded = _Loaded()
        self.reload()

    @property
    def ids(self) -> list[str]:
        return self._loaded.ids

    @property
    def generation(self) -> int:
        return self._loaded.generation

    def reload(self) -> None:
        """Load the live index from disk, unless it is the one already loaded."""
        current = self.folder / "CURRENT"
        if not current.is_file():
            return
        name = current.read_text().strip()
        if name == self._loaded.folder:
            return
        live = self.folder / name
        try:
            meta = json.loads((live / "pressqa.json").read_text())
            bm25 = bm25s.BM25.load(str(live)) if meta["ids"] else None
        except (OSError, ValueError, KeyError) as err:
            # Replaced meanwhile by a newer save (the next reload finds it), or damaged. An
            # index already loaded goes on serving; none at all is rebuilt by the next writer.
            log.warning("keyword index at %s unreadable (%s)", live, err)
            return
        self._loaded = _Loaded(
            bm25=bm25,
            ids=meta["ids"],
            date_ints=np.array(meta["date_ints"], dtype=np.int32),
            source_codes=np.array(meta["source_codes"], dtype=np.int32),
            source_names=meta["source_names"],
            generation=int(meta["generation"]),
            folder=name,
        )

    def rebuild(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        dates: Sequence[dt.date | None],
        sources: Sequence[str | None],
        generation: int,
    ) -> None:
        """Index ``texts`` (one per chunk id, with its release's date and issuer) and make it
        the live index for ``generation``."""
        name = f"gen-{generation}-{os.getpid()}"
        target = self.folder / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(_tokenize(texts), show_progress=False)
            bm25.save(str(target), show_progress=False)
        source_names = sorted({source for source in sources if source})
        code = {name: number for number, name in enumerate(source_names)}
        date_ints = [date_int(day) if day else 0 for day in dates]
        source_codes = [code[source] if source else -1 for source in sources]
        meta = {
            "generation": generation,
            "ids": list(ids),
            "date_ints": date_ints,
            "source_names": source_names,
            "source_codes": source_codes,
        }
        atomic_write_text(target / "pressqa.json", json.dumps(meta))
        atomic_write_text(self.folder / "CURRENT", name)
        for old in self.folder.glob("gen-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        self._loaded = _Loaded(
            bm25=bm25,
            ids=list(ids),
            date_ints=np.array(date_ints, dtype=np.int32),
            source_codes=np.array(source_codes, dtype=np.int32),
            source_names=source_names,
            generation=generation,
            folder=name,
        )

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores of the best ``k`` matches that ``filters`` admit."""
        loaded = self._loaded
        if loaded.bm25 is None:
            return []
        tokens = [token for token in _tokenize([query])[0] if token in loaded.bm25.vocab_dict]
        if not tokens:
            return []
        scores = loaded.bm25.get_scores(tokens)
        if filters is not None and filters != SearchFilters():
            scores *= _mask(loaded, filters)
        # The best k among the chunks that hold a query term, not among all chunks:
        # bm25s's retrieve partitions the whole score array, 7 of its 8 ms at 345k chunks.
        matched = np.flatnonzero(scores > 0)
        if len(matched) > k:  # which of the chunks tied at the k-th score stay is up to numpy, as in bm25s
            matched = matched[np.argpartition(scores[matched], -k)[-k:]]
        best = matched[np.lexsort((matched, -scores[matched]))]  # best first; equal scores, earlier chunk first
        return [(loaded.ids[index], float(scores[index])) for index in best.tolist()]

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25's inverse document frequency over the chunks of each stemmed term; a term no
        chunk has gets the highest (it is as rare as a term can be)."""
        loaded = self._loaded
        count = len(loaded.ids)
        vocabulary = loaded.bm25.vocab_dict if loaded.bm25 is not None else {}
        # The score matrix is stored by term: term t's entries (the chunks holding it) lie
        # between indptr[t] and indptr[t + 1].
        indptr = loaded.bm25.scores["indptr"] if loaded.bm25 is not None else None
        weights = {}
        for term in terms:
            column = vocabulary.get(term)
            frequency = 0 if column is None or indptr is None else int(indptr[column + 1] - indptr[column])
            weights[term] = math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))
        return weights


def _mask(loaded: _Loaded, filters: SearchFilters) -> np.ndarray:
    """1.0 for the chunks ``filters`` admit, 0.0 for the others (as ``SearchFilters.admits``)."""
    admitted = np.ones(len(loaded.ids), dtype=bool)
    if filters.since or filters.until:
        admitted &= loaded.date_ints > 0  # an undated release cannot be shown to fall in the range
    if filters.since:
        admitted &= loaded.date_ints >= date_int(filters.since)
    if filters.until:
        admitted &= loaded.date_ints <= date_int(filters.until)
    if filters.sources:
        wanted = [number for number, name in enumerate(loaded.source_names) if name in filters.sources]
        admitted &= np.isin(loaded.source_codes, wanted)
    return admitted.astype(np.float32)
