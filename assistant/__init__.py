"""The answering side: questions in, verbatim quoted answers out."""
from __future__ import annotations

from assistant.answer import Answer, Found, Quote, QuestionError
from assistant.assistant import Assistant

__all__ = ["Answer", "Assistant", "Found", "QuestionError", "Quote"]
