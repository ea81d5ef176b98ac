"""What the benchmarks share: the machine they ran on, and bench/RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

HERE = Path(__file__).resolve().parent
SHARED_EVAL = HERE.parent.parent / "shared" / "eval"


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            cpu,
        )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import torch

    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM).  Not getrusage's ru_maxrss: Linux keeps
    that across exec, so a child started by a large parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` of the sorted values (0 for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(lines: list[str], *, keep: bool) -> None:
    """Print a result section and, if ``keep``, append it to bench/RESULTS.md."""
    print("\n".join(lines))
    if not keep:
        return
    with (HERE / "RESULTS.md").open("a", encoding="utf-8") as results:
        results.write("\n".join(lines) + "\n")


def raw_chroma(archive: Path, chroma_url: str | None) -> tuple[ClientAPI, str]:
    """Chroma itself, holding an archive's chunks: a client and the collection's name, for the
    baselines that use Chroma as plain llama-index does (pressqa goes through its store)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)
    if chroma_url is None:
        return chromadb.PersistentClient(path=str(archive / "chroma"), settings=quiet), "chunks"
    server = urlsplit(chroma_url)
    archive_id = json.loads((archive / "pressqa.json").read_text())["id"]
    client = chromadb.HttpClient(host=server.hostname or "", port=server.port or 80, settings=quiet)
    return client, f"pressqa-{archive_id}"
