"""Split releases into passages that fit the embedding model's window, with exact offsets."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from llama_index.core.node_parser import SentenceSplitter
from tokenizers import Tokenizer

from pressqa.errors import IngestError
from pressqa.settings import Settings
from pressqa.types import Chunk, Release, describe, make_chunk_id

# [CLS] and [SEP] take two places of the model window.
SPECIAL_TOKENS = 2


class Chunker:
    """Sentence-aware, paragraph-respecting chunks (llama-index ``SentenceSplitter``) measured
    in the embedding model's own tokens, each knowing its character span in the release.

    ``embedding_text`` puts the release's ``title | issuer | date`` before a chunk, with
    the title cut so that header and chunk fit the window: the model silently drops
    whatever lies past it.
    """

    def __init__(self, tokenizer_file: Path, chunk_size: int, chunk_overlap: int, window: int) -> None:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The packaged tokenizer pads and truncates to 128 by default; counting needs neither.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self.header_budget = window - SPECIAL_TOKENS - chunk_size
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            paragraph_separator="\n\n",
            tokenizer=self.tokens,
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> Chunker:
        """The chunker an archive with these settings uses, measuring in its model's tokens."""
        return cls(
            settings.model_path() / "tokenizer.json",
            settings.chunk_size,
            settings.chunk_overlap,
            settings.embedding_window,
        )

    def tokens(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def chunk(self, release: Release, version: str) -> list[Chunk]:
        """The chunks of one version of a release; their ids name the version."""
        chunks: list[Chunk] = []
        search_from = 0
        for index, piece in enumerate(self._splitter.split_text(release.text)):
            # The splitter returns stripped substrings of the text in order; locating each
            # one after the previous start gives exact offsets even for repeated passages.
            start = release.text.find(piece, search_from)
            if start < 0:
                raise IngestError(release.origin, f"chunk {index} is not a span of the release text")
            end = start + len(piece)
            chunks.append(
                Chunk(make_chunk_id(release.doc_id, version, index), release.doc_id, index, piece, start, end)
            )
            search_from = start + 1
        return chunks

    def embedding_text(self, release: Release, chunk_text: str) -> str:
        return self.embedding_texts(release, [chunk_text])[0]

    def embedding_texts(self, release: Release, chunk_texts: Sequence[str]) -> list[str]:
        """The embedded texts of a release's chunks (its header is measured once)."""
        header = self.header(release)
        return [f"{header}\n\n{text}" for text in chunk_texts]

    def header(self, release: Release) -> str:
        header = describe(release)
        excess = len(self.tokens(header)) - self.header_budget
        if excess > 0:
            title = self._tokenizer.encode(release.title, add_special_tokens=False)
            keep = max(len(title.ids) - excess, 0)
            clipped = release.title[: title.offsets[keep - 1][1]] if keep else ""
            header = describe(dataclasses.replace(release, title=clipped))
        return self._clip(header, self.header_budget)

    def _clip(self, text: str, budget: int) -> str:
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        if len(encoding.ids) <= budget:
            return text
        return text[: encoding.offsets[budget - 1][1]] if budget > 0 else ""
