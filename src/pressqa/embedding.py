"""The sentence embedder: the packaged all-MiniLM-L6-v2, loaded from disk, never downloaded."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pressqa.errors import ConfigError
from pressqa.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


@functools.cache
def _load_model(path: str, device: str) -> SentenceTransformer:
    """One model per folder and device in a process: archives opened side by side share it."""
    if not (Path(path) / "config.json").is_file():
        raise ConfigError(f"no embedding model at {path}; set PRESSQA_EMBEDDING_PATH to a local model folder")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # the library stays quiet; the CLI shows progress
    log.info("loading embedding model from %s on %s", path, device)
    return SentenceTransformer(path, device=device, local_files_only=True)


class Embedder:
    """Normalised sentence vectors, computed in large batches (sentence-transformers sorts each
    call's texts by length, so padding stays small).  The model loads on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: SentenceTransformer | None = None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            path = self.settings.model_path()
            model = _load_model(str(path), self.settings.device)
            dim = model.get_embedding_dimension()
            if dim != self.settings.embedding_dim:
                raise ConfigError(f"model at {path} makes {dim}-d vectors, settings say {self.settings.embedding_dim}")
            self._model = model
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.settings.embedding_dim), dtype=np.float32)
        return self.model.encode(
            list(texts),
            batch_size=self.settings.embedding_batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
