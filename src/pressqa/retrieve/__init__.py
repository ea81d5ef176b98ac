"""Retrieval: from a question to ranked passages."""
