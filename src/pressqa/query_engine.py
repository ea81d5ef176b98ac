"""An Archive as a llama-index query engine, so pressqa composes with that ecosystem."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore, TextNode
from pydantic import Field

from pressqa.present import citation_metadata


class ArchiveQueryEngine(CustomQueryEngine):
    """``query(question)`` -> ``Response``: the answer's text, its citations as source
    nodes (the quoted passage, with title, issuer, date, url and offsets as metadata) and
    ``metadata["answer"]``, the full ``pressqa.Answer``."""

    archive: Any = Field(description="The pressqa Archive to answer from.")
    options: dict[str, Any] = Field(default_factory=dict, description="Options for Archive.ask.")

    def custom_query(self, query_str: str) -> Response:
        answer = self.archive.ask(query_str, **self.options)
        nodes = [
            NodeWithScore(
                node=TextNode(
                    id_=f"{citation.doc_id}:{citation.start}-{citation.end}",
                    text=citation.quote,
                    metadata=citation_metadata(citation),
                ),
            )
            for citation in answer.citations
        ]
        return Response(response=answer.text, source_nodes=nodes, metadata={"answer": answer})
