"""Answer-quality evals on a question set: ``run(archive, load_questions(path))``."""

from pressqa.eval.harness import EvalReport, QuestionResult, corpus_archive, run
from pressqa.eval.questions import Question, load_questions

__all__ = ["EvalReport", "Question", "QuestionResult", "corpus_archive", "load_questions", "run"]
