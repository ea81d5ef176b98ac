"""Split releases into passages that fit the embedding model's window, with exact offsets."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.node_parser import SentenceSplitter
from tokenizers import Tokenizer

from pressqa.errors import IngestError
from pressqa.types import Chunk, Release


class Chunker:
    """Sentence-aware, paragraph-respecting chunks (llama-index ``SentenceSplitter``) measured
    in the embedding model's own tokens, each knowing its character span in the release."""

    def __init__(self, tokenizer_file: Path, chunk_size: int, chunk_overlap: int) -> None:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The packaged tokenizer pads and truncates to 128 by default; counting needs neither.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            paragraph_separator="\n\n",
            tokenizer=self.tokens,
        )

    def tokens(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def chunk(self, release: Release) -> list[Chunk]:
        chunks: list[Chunk] = []
        search_from = 0
        for index, piece in enumerate(self._splitter.split_text(release.text)):
            # The splitter returns stripped substrings of the text in order; locating each
            # one after the previous start gives exact offsets even for repeated passages.
            start = release.text.find(piece, search_from)
            if start < 0:
                raise IngestError(release.origin, f"chunk {index} is not a span of the release text")
            end = start + len(piece)
            chunks.append(Chunk(f"{release.doc_id}#{index}", release.doc_id, index, piece, start, end))
            search_from = start + 1
        return chunks
