"""Language-model backends: ``--llm`` spec strings to llama-index LLM objects."""
