"""The reranking hook: a cross-encoder loaded from a local folder reorders the fused
candidates.  None ships with pressqa (no packaged offline one is good enough), so search
runs without one unless ``Settings.reranker_path`` names a sentence-transformers
CrossEncoder folder, or an object with this protocol is passed in."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pressqa.errors import ConfigError


class Reranker(Protocol):
    """Scores passages against a question; higher is more relevant."""

    def score(self, question: str, passages: Sequence[str]) -> Sequence[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` from a local folder, never downloaded."""

    def __init__(self, path: Path, device: str = "cpu") -> None:
        if not (path / "config.json").is_file():
            raise ConfigError(f"no cross-encoder model at {path} (PRESSQA_RERANKER_PATH): expected its config.json")
        self.path, self.device = path, device

    @functools.cached_property
    def _model(self):  # type: ignore[no-untyped-def]  # sentence_transformers loads lazily
        from sentence_transformers import CrossEncoder

        return CrossEncoder(str(self.path), device=self.device, local_files_only=True)

    def score(self, question: str, passages: Sequence[str]) -> Sequence[float]:
        return [float(value) for value in self._model.predict([(question, passage) for passage in passages])]
