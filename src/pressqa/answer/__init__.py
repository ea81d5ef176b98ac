"""Answers: drafting (offline extractive or a language model), citation checking, follow-ups."""
