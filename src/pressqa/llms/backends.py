"""``--llm`` specs to llama-index LLM objects: a registry of small factories.

    ollama:MODEL                  an Ollama server (OLLAMA_HOST, default http://127.0.0.1:11434)
    openai-like:MODEL@BASE_URL    an OpenAI-compatible chat server (vLLM, llama.cpp server,
                                  LM Studio); key from PRESSQA_LLM_API_KEY or OPENAI_API_KEY
    llamacpp:/path/model.gguf     a local GGUF model in this process (pip install 'pressqa[llamacpp]')

Third-party backends register the same way: ``BACKENDS["name"] = factory``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from pressqa.errors import ConfigError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

# A factory takes what follows "name:" in the spec, and the timeout in seconds.
Factory = Callable[[str, float], "LLM"]


def _ollama(model: str, timeout: float) -> LLM:
    from llama_index.llms.ollama import Ollama

    base_url = os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
    if "://" not in base_url:
        base_url = f"http://{base_url}"
    llm: LLM = Ollama(model=model, base_url=base_url, request_timeout=timeout)
    return llm


def _openai_like(target: str, timeout: float) -> LLM:
    from llama_index.llms.openai_like import OpenAILike

    model, _, base_url = target.partition("@")
    if not model or not base_url:
        raise ConfigError(
            f"openai-like needs MODEL@BASE_URL, e.g. openai-like:qwen2.5@http://127.0.0.1:8000/v1; got {target!r}"
        )
    api_key = os.environ.get("PRESSQA_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY") or "none"
    llm: LLM = OpenAILike(
        model=model, api_base=base_url, api_key=api_key, is_chat_model=True, timeout=timeout, max_retries=0
    )
    return llm


@functools.cache  # the weights load once per process, not once per question
def _llamacpp(path: str, timeout: float) -> LLM:
    if not os.path.isfile(path):
        raise ConfigError(f"llamacpp: no model file at {path}")
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError:
        raise ConfigError(
            "llamacpp needs the optional extra: pip install 'pressqa[llamacpp]' (on CPUs where llama-cpp-python "
            'crashes, build it with CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-binary llama-cpp-python '
            "llama-cpp-python)"
        ) from None
    llm: LLM = LlamaCPP(model_path=path, temperature=0.0, max_new_tokens=512, verbose=False)
    return llm


BACKENDS: dict[str, Factory] = {"ollama": _ollama, "openai-like": _openai_like, "llamacpp": _llamacpp}


def load_llm(spec: str, timeout: float = 120.0) -> LLM:
    """The LLM a spec names, e.g. ``ollama:llama3.1:8b``.

    Raises ``ConfigError`` naming the known backends for an unknown one.
    """
    name, _, target = spec.partition(":")
    factory = BACKENDS.get(name)
    if factory is None or not target:
        raise ConfigError(f"--llm {spec!r}: expected BACKEND:TARGET with BACKEND one of {', '.join(BACKENDS)}")
    return factory(target, timeout)
