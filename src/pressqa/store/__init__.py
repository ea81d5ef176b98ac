"""The archive on disk, behind one narrow interface (``Store``): the release registry
(SQLite, ``registry.py``), the chunks and their vectors (Chroma, ``chunks.py``) and the
keyword index (tantivy, ``keyword.py``).  No module outside this package talks to
chromadb, tantivy, bm25s or SQLite."""

from pressqa.store.chunks import StoredChunk, assemble_text
from pressqa.store.facade import Adopter, Store
from pressqa.store.registry import DuplicateMatch, StoredRelease, version_of

__all__ = ["Adopter", "DuplicateMatch", "Store", "StoredChunk", "StoredRelease", "assemble_text", "version_of"]
