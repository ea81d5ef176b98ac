"""Optional LLM-as-judge verdicts (never the default; reported as judge_* and labelled so)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pressqa.eval.questions import Question
from pressqa.types import Answer

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

CORRECT_PROMPT = """You grade answers. Question: {question}
Gold answers (any one is enough): {gold}
Answer to grade: {answer}
Does the answer give a gold answer, without contradicting it? Reply with one word: yes or no."""

FAITHFUL_PROMPT = """You check citations. Each numbered quote is from an official release.
{quotes}
Answer: {answer}
Is every statement of the answer supported by the quote it cites? Reply with one word: yes or no."""


def judge_answer(llm: LLM, question: Question, answer: Answer) -> dict[str, bool | None]:
    """Correctness (against the gold answers) and faithfulness (to the cited quotes)."""
    quotes = "\n".join(f"[{c.number}] {c.quote}" for c in answer.citations)
    verdicts: dict[str, bool | None] = {}
    if question.answerable:
        prompt = CORRECT_PROMPT.format(question=question.question, gold="; ".join(question.answers), answer=answer.text)
        verdicts["correct"] = _yes(llm, prompt)
    verdicts["faithful"] = _yes(llm, FAITHFUL_PROMPT.format(quotes=quotes, answer=answer.text))
    return verdicts


def _yes(llm: LLM, prompt: str) -> bool | None:
    reply = str(llm.complete(prompt).text).strip().lower()
    if reply.startswith("yes"):
        return True
    return False if reply.startswith("no") else None
