"""A language-model server on 127.0.0.1 that speaks the real wire protocols of Ollama
(/api/chat, NDJSON stream; /api/show) and of the OpenAI chat-completions API
(/v1/chat/completions, server-sent events), answering with what a test scripts.

The model is fake; the HTTP, the streaming formats and the llama-index clients are real.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Given the chat messages ({"role", "content"}), the reply the model writes.
Reply = Callable[[list[dict[str, Any]]], str]
SOURCE = re.compile(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', re.DOTALL)


def source_with(messages: list[dict[str, Any]], words: str) -> int:
    """The number the prompt gives the source whose text holds ``words``."""
    for number, text in SOURCE.findall(messages[-1]["content"]):
        if words in text:
            return int(number)
    raise AssertionError(f"no source holds {words!r}")


class ScriptedModel:
    def __init__(self, reply: Reply, pause: float = 0.0) -> None:
        self.reply = reply
        self.pause = pause  # seconds between streamed pieces, as a slow model writes
        self.requests: list[dict[str, Any]] = []


def _pieces(text: str) -> list[str]:
    """The reply cut into token-like pieces, as a model streams it."""
    pieces, word = [], ""
    for character in text:
        word += character
        if character in " [].":
            pieces.append(word)
            word = ""
    return [*pieces, word] if word else pieces


def _handler(model: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/api/show":
                self._json({"model_info": {"llama.context_length": 8192}, "details": {"family": "llama"}})
                return
            model.requests.append({"path": self.path, **request})
            text = model.reply(request["messages"])
            if self.path == "/api/chat":
                self._ollama(request, text)
            elif self.path == "/v1/chat/completions":
                self._openai(request, text)
            else:
                self._json({"error": f"no route {self.path}"}, 404)

        def _ollama(self, request: dict[str, Any], text: str) -> None:
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ")
            if not request.get("stream", True):
                self._json(
                    {"model": request["model"], "created_at": now, "message": {"role": "assistant", "content": text},
                     "done": True, "done_reason": "stop"}
                )  # fmt: skip
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            for piece in _pieces(text):
                line = {"model": request["model"], "created_at": now,
                        "message": {"role": "assistant", "content": piece}, "done": False}  # fmt: skip
                self.wfile.write((json.dumps(line) + "\n").encode())
                self.wfile.flush()
                time.sleep(model.pause)
            last = {"model": request["model"], "created_at": now, "message": {"role": "assistant", "content": ""},
                    "done": True, "done_reason": "stop", "prompt_eval_count": 10, "eval_count": 10}  # fmt: skip
            self.wfile.write((json.dumps(last) + "\n").encode())

        def _openai(self, request: dict[str, Any], text: str) -> None:
            base = {"id": "chatcmpl-1", "created": int(time.time()), "model": request["model"]}
            if not request.get("stream"):
                self._json(
                    {**base, "object": "chat.completion",
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": text}}],
                     "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}
                )  # fmt: skip
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for number, piece in enumerate(_pieces(text)):
                delta = {"role": "assistant", "content": piece} if number == 0 else {"content": piece}
                chunk = {**base, "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(model.pause)
            end = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

    return Handler


@contextmanager
def serving(reply: Reply, pause: float = 0.0) -> Iterator[tuple[str, ScriptedModel]]:
    """A server on a free port of 127.0.0.1: yields its base URL and the scripted model
    (which waits ``pause`` seconds between the pieces it streams)."""
    model = ScriptedModel(reply, pause)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", model
    finally:
        server.shutdown()
        server.server_close()
