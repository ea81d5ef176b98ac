"""Run on a GPU machine: embed the text parts written by ``bench/scale.py texts`` with
pressqa's Embedder at ``device=cuda`` (what ``--device cuda`` / ``PRESSQA_DEVICE=cuda`` use),
after checking it against the same Embedder on that machine's CPU.

    python bench/gpu_embed.py --texts DIR --store DIR --out DIR [--verify 2000] [--return 4]

Embeds each part not yet in ``--store`` (float16 .npy), then copies up to ``--return`` parts
not yet returned to ``--out``: a call to the lent machine brings back at most 64 MiB, so the
same command is run until every part is back.  Prints a JSON summary.

That machine holds torch and sentence-transformers but not pressqa's other dependencies, so
only the modules the embedder needs are imported (not ``pressqa/__init__``, which opens
Chroma and the rest); PRESSQA_EMBEDDING_PATH names the model folder that travelled with it.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PACKAGE = Path(__file__).resolve().parent.parent / "src" / "pressqa"
sys.modules["pressqa"] = types.ModuleType("pressqa")
sys.modules["pressqa"].__path__ = [str(PACKAGE)]

from pressqa.embedding import Embedder  # noqa: E402
from pressqa.settings import Settings  # noqa: E402


def load(part: Path) -> list[str]:
    with lzma.open(part, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def embedder(device: str) -> Embedder:
    made = Embedder(Settings(device=device))
    # The weights travelled as float16 to fit a call; computing in float32, as pressqa does
    # everywhere, keeps the vectors within 1e-6 cosine of the original weights' (checked here).
    made.model.float()
    return made


def timed(made: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    vectors = made.embed(texts)  # returns numpy, so the GPU's work is done when it returns
    return vectors, time.perf_counter() - started


def verify(gpu: Embedder, texts: list[str]) -> dict[str, object]:
    cpu = embedder("cpu")
    cpu.embed(texts[:64])
    gpu.embed(texts[:64])  # warm both before timing
    on_cpu, cpu_s = timed(cpu, texts)
    on_gpu, gpu_s = timed(gpu, texts)
    cosine = (on_cpu * on_gpu).sum(axis=1)
    return {
        "texts": len(texts),
        "cpu_batch": cpu.settings.embedding_batch,
        "gpu_batch": gpu.settings.embedding_batch,
        "cpu_chunks_per_s": round(len(texts) / cpu_s),
        "gpu_chunks_per_s": round(len(texts) / gpu_s),
        "min_cosine_cpu_gpu": float(cosine.min()),
        "max_abs_diff": float(np.abs(on_cpu - on_gpu).max()),
        "same_top1_neighbour": float(
            np.mean((on_cpu @ on_cpu.T).argsort(1)[:, -2] == (on_gpu @ on_gpu.T).argsort(1)[:, -2])
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda", help="torch device to embed on (cpu for a dry run)")
    parser.add_argument("--verify", type=int, default=0, help="texts embedded on both CPU and GPU first")
    parser.add_argument("--return", dest="give", type=int, default=4, help="parts copied to --out")
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    summary: dict[str, object] = {
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
    }
    gpu = embedder(args.device)
    parts = sorted(args.texts.glob("part-*.jsonl.xz"))
    if args.verify and parts:
        summary["verify"] = verify(gpu, load(parts[0])[: args.verify])
    embedded, seconds = 0, 0.0
    for part in parts:
        target = args.store / part.name.replace(".jsonl.xz", ".npy")
        if not target.exists():
            vectors, took = timed(gpu, load(part))
            partial = target.with_name(f"unfinished-{target.name}")
            np.save(partial, vectors.astype(np.float16))
            partial.rename(target)  # a killed run leaves no part that looks done
            embedded, seconds = embedded + len(vectors), seconds + took
    if embedded:
        summary["embedded"] = {
            "texts": embedded,
            "seconds": round(seconds, 1),
            "chunks_per_s": round(embedded / seconds),
        }
    returned = args.store / "returned.txt"
    done = set(returned.read_text().split()) if returned.exists() else set()
    waiting = sorted(path.name for path in args.store.glob("part-*.npy") if path.name not in done)
    for name in waiting[: args.give]:
        shutil.copy(args.store / name, args.out / name)
        done.add(name)
    returned.write_text("\n".join(sorted(done)))
    summary["returned"] = waiting[: args.give]
    summary["left"] = waiting[args.give :]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
