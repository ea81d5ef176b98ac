"""A Chroma server on this machine, started and stopped around a block of code.

For the test suite's server mode and the benchmarks; in production, start the server with
``chroma run --path DIR --host 127.0.0.1 --port 8000`` and point pressqa at it with
``--chroma-url http://127.0.0.1:8000``.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def chroma_server(folder: Path, *, start_timeout: float = 60.0) -> Iterator[str]:
    """``chroma run`` storing in ``folder``, on a free loopback port; yields its URL."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"  # the chromadb package's command
    command = [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "chroma-server.log"  # a file, not a pipe: nobody reads the server's output while it runs
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start: {log.read_text(errors='replace')[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
