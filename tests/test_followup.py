"""Follow-ups in a conversation: a message is merged into the topic question only when it
leans on it, never into a chain of earlier merges, and a long one never merges.  The turns
are the kinds users type: continuations, topic switches, fragments with times, pronouns."""

from __future__ import annotations

import pytest

from pressqa.query.followup import standalone_question

ZAPAD = "Which exercises did Russia join in China in 2021?"
FCA = "How much did the Justice Department recover under the False Claims Act in fiscal year 2021?"
LONG = "Please read this statement carefully. " * 600  # a pasted page, 22,800 characters


def conversation(*questions: str) -> list[dict[str, str]]:
    messages = []
    for question in questions:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "An answer [1]."}]
    return messages[:-1]


@pytest.mark.parametrize(
    ("turns", "standalone"),
    [
        # Continuations: a time, a place, a pronoun.
        ([ZAPAD, "And in 2022?"], "Which exercises did Russia join in China in 2022?"),
        ([ZAPAD, "in 2019?"], "Which exercises did Russia join in China in 2019?"),
        ([FCA, "and 2019?"], FCA.replace("2021", "2019")),
        ([ZAPAD, "Who announced it?"], f"Who announced it, regarding: {ZAPAD}"),
        (["Who was sentenced in the Boeing fraud case?", "How many years did he get?"],
         "How many years did he get, regarding: Who was sentenced in the Boeing fraud case?"),
        (["What fine did Boeing pay in 2021?", "When did Boeing pay it?"],
         "When did Boeing pay it, regarding: What fine did Boeing pay in 2021?"),
        (["What fine did Boeing pay in 2021?", "what about Airbus?"], "What fine did Boeing pay in 2021 Airbus?"),
        ([ZAPAD, "Was it a plea deal?"], f"Was it a plea deal, regarding: {ZAPAD}"),
        ([ZAPAD, "Source?"], "Which exercises did Russia join in China in 2021 Source?"),
        (["What did NATO agree at the Vilnius summit?", "What did Zelensky say about it?"],
         "What did Zelensky say about it, regarding: What did NATO agree at the Vilnius summit?"),
        (["Which exercises did Russia join in China in March 2021?", "and in 2022?"],
         "Which exercises did Russia join in China in 2022?"),
        # Topic switches: the message names what it asks about.
        (["What did NATO agree at the Vilnius summit?", "Boeing fine?"], "Boeing fine?"),
        ([ZAPAD, "Boeing: what was the fine?"], "Boeing: what was the fine?"),
        ([ZAPAD, "How many personnel took part in Vostok-2022?"], "How many personnel took part in Vostok-2022?"),
        ([ZAPAD, "What did the Justice Department say about Boeing this year?"],
         "What did the Justice Department say about Boeing this year?"),
        ([ZAPAD, "What was the fine that Boeing paid in 2021?"], "What was the fine that Boeing paid in 2021?"),
        # Never a chain: a follow-up leans on the last question that stood alone.
        ([ZAPAD, "Who announced it?", "and in 2022?"], "Which exercises did Russia join in China in 2022?"),
        ([ZAPAD, "Who announced it?", "Who announced it?"], f"Who announced it, regarding: {ZAPAD}"),
        (["How long was Elizabeth Holmes sentenced?", "Who announced it?", "snow emergency", "Joint Sea?"],
         "Joint Sea?"),
        (["How long was Elizabeth Holmes sentenced?", "Who announced it?", "Which exercises did Russia join?",
          "and in 2021?"], "Which exercises did Russia join in 2021?"),
        # A long message is never merged, nor merged into.
        ([LONG, "and in 2022?"], "and in 2022?"),
        ([ZAPAD, LONG.strip() + " What did it say?"], LONG.strip() + " What did it say?"),
        ([ZAPAD, LONG, "Who announced it?"], "Who announced it?"),
    ],
)  # fmt: skip
def test_a_follow_up_leans_only_on_the_topic_question(turns: list[str], standalone: str) -> None:
    assert standalone_question(conversation(*turns)) == standalone


def test_a_message_asked_as_a_new_question_is_the_topic_after_it() -> None:
    messages = conversation(ZAPAD, "Boeing penalty")
    messages[-1]["standalone"] = "yes"  # the page's "ask as a new question"
    assert standalone_question(messages) == "Boeing penalty"
    messages += [{"role": "assistant", "content": "..."}, {"role": "user", "content": "and in 2021?"}]
    assert standalone_question(messages) == "Boeing penalty in 2021?"


def test_the_language_model_rewrites_short_messages_only() -> None:
    prompts: list[str] = []

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return "Which exercises did Russia join in China in 2022?"

    full = "What did the Justice Department say about Boeing this year?"
    assert standalone_question(conversation(ZAPAD, full), complete) == full
    assert standalone_question(conversation(ZAPAD, LONG), complete) == LONG.strip()
    assert not prompts  # a question asked in full, and a long message, are never sent
    rewritten = standalone_question(conversation("What did NATO agree?", ZAPAD, "and in 2022?"), complete)
    assert rewritten == "Which exercises did Russia join in China in 2022?"
    # The model sees the topic question and what followed it, not the earlier topic.
    assert len(prompts) == 1 and ZAPAD in prompts[0] and "NATO" not in prompts[0]
