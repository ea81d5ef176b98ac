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
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from pressqa.fsutil import atomic_write_text
from pressqa.types import SearchFilters

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

_STEMMER = Stemmer.Stemmer("english")


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    tokenized: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return tokenized


class KeywordIndex:
    """BM25 over chunk texts.  ``folder/CURRENT`` names the live ``gen-N`` subfolder, so a
    save is one atomic rename and a reader never sees half an index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.generation = -1
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        # Per chunk, for filtering: its release's date (None if undated) and issuer.
        self._dates: list[dt.date | None] = []
        self._sources: list[str | None] = []
        self._load()

    @property
    def ids(self) -> list[str]:
        return self._ids

    def _load(self) -> None:
        current = self.folder / "CURRENT"
        if not current.is_file():
            return
        live = self.folder / current.read_text().strip()
        try:
            meta = json.loads((live / "pressqa.json").read_text())
            self._ids = meta["ids"]
            self._dates = [dt.date.fromisoformat(day) if day else None for day in meta["dates"]]
            self._sources = [meta["source_names"][code] if code >= 0 else None for code in meta["source_codes"]]
            self._bm25 = bm25s.BM25.load(str(live)) if self._ids else None
            self.generation = int(meta["generation"])
        except (OSError, ValueError, KeyError, IndexError) as err:
            log.warning("keyword index at %s unreadable (%s); it will be rebuilt", live, err)
            self.generation, self._ids, self._dates, self._sources, self._bm25 = -1, [], [], [], None

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
        meta = {
            "generation": generation,
            "ids": list(ids),
            "dates": [day.isoformat() if day else None for day in dates],
            "source_names": source_names,
            "source_codes": [code[source] if source else -1 for source in sources],
        }
        atomic_write_text(target / "pressqa.json", json.dumps(meta))
        atomic_write_text(self.folder / "CURRENT", name)
        for old in self.folder.glob("gen-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        self._bm25, self._ids, self.generation = bm25, list(ids), generation
        self._dates, self._sources = list(dates), list(sources)

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores of the best ``k`` matches that ``filters`` admit."""
        if self._bm25 is None:
            return []
        tokens = [token for token in _tokenize([query])[0] if token in self._bm25.vocab_dict]
        if not tokens:
            return []
        mask = None
        if filters is not None and filters != SearchFilters():
            mask = np.array(
                [filters.admits(day, source) for day, source in zip(self._dates, self._sources, strict=True)],
                dtype=np.float32,
            )
        documents, scores = self._bm25.retrieve(
            [tokens], k=min(k, len(self._ids)), show_progress=False, weight_mask=mask
        )
        return [
            (self._ids[int(index)], float(score))
            for index, score in zip(np.asarray(documents)[0], np.asarray(scores)[0], strict=True)
            if score > 0
        ]
