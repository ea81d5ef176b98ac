"""Question understanding: the time and issuers a question names (``timeparse``,
``issuers``), the kind of answer it asks for (``question``), the search plan made of them
(``plan``), and follow-ups in a conversation read as standalone questions (``followup``).
Retrieval and the answerers read what this package makes; it reads no archive."""
