"""A chat session: its turns, so that a follow-up ("Who supervises it?") is read against the earlier ones."""
from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answer import Answer
from assistant.assistant import Assistant
from assistant.question import MAX_HISTORY
from assistant.topic import last_document


@dataclass
class ChatSession:
    """The questions and answers of one conversation, oldest first. Not shared between users."""

    bot: Assistant
    turns: list[tuple[str, Answer]] = field(default_factory=list)
    doc_ids: tuple[str, ...] = ()   # ask within these documents (ids or indexed paths); empty: all of them

    @property
    def history(self) -> list[str]:
        """The earlier questions a follow-up is read against: the latest MAX_HISTORY."""
        return [question for question, _ in self.turns[-MAX_HISTORY:]]

    def ask(self, question: str) -> Answer:
        """Answer `question` in the context of this session's earlier questions, and keep the turn."""
        answer = self.bot.ask(question, history=self.history, doc_ids=self.doc_ids or None,
                              chat_document=last_document(answer for _, answer in self.turns))
        self.turns.append((answer.question, answer))
        return answer

    def clear(self) -> None:
        self.turns.clear()
