"""SQuAD JSON (v1.1 and v2.0) as an open-domain eval: every article one document, in an index of its own; its
questions asked one by one, or as chats (`follow_ups`).

Answer offsets (`answer_start`) are ignored: quotes are scored by containing a gold answer text, since
part of the offsets in the shared copies are heuristic (see the benchmarks README).
"""
from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.datasets import DatasetError, Item

if TYPE_CHECKING:
    from assistant import Assistant
    from embeddings.settings import Settings


@dataclass(frozen=True, slots=True)
class Article:
    """One SQuAD article: its title (underscores as in the file) and its paragraphs in order."""

    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[str, ...] = ()   # ids of its questions, in file order

    @property
    def filename(self) -> str:
        """A file name made of the title; characters other than letters, digits, '.', '-', '_' become '_'."""
        return re.sub(r"[^\w.-]", "_", self.title).lstrip(".") + ".txt"

    @property
    def text(self) -> str:
        """The document: the title with spaces as its first line, a blank line, paragraphs split by blank lines."""
        return self.title.replace("_", " ") + "\n\n" + "\n\n".join(self.paragraphs) + "\n"


def load(path: Path) -> tuple[list[Article], list[Item]]:
    """The articles and questions (in file order) of a SQuAD v1.1 or v2.0 file.

    v2.0 questions marked `is_impossible` get no answers (the right response is to abstain); repeated gold
    texts of one question are kept once. Raises DatasetError when the file is not SQuAD-shaped.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file; give the path of a SQuAD JSON file (e.g. dev-v1.1.json)") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON ({e.msg}, line {e.lineno}); give a SQuAD JSON file") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DatasetError(f"{path}: no top-level 'data' list; give a SQuAD JSON file (data → paragraphs → context, qas)")
    articles: list[Article] = []
    items: list[Item] = []
    for a, article in enumerate(data["data"]):
        where = f"{path}: data[{a}]"
        try:
            paragraphs = tuple(p["context"] for p in article["paragraphs"])
            own = [_item(qa) for p in article["paragraphs"] for qa in p["qas"]]
            articles.append(Article(article["title"], paragraphs, tuple(item.id for item in own)))
            items.extend(own)
        except (KeyError, TypeError) as e:
            raise DatasetError(f"{where}: missing or malformed {e}; each article needs title and paragraphs[context, qas[id, question, answers]]") from None
    names = [a.filename for a in articles]
    if len(set(names)) != len(names):
        clash = next(n for n in names if names.count(n) > 1)
        raise DatasetError(f"{path}: two article titles map to the file name {clash!r}; give the articles distinct titles")
    return articles, items


def follow_ups(articles: list[Article], items: list[Item], seed: int = 0) -> list[Item]:
    """SQuAD asked as chats, to measure follow-ups on text nobody here wrote: each article's questions in file
    order, in chats of 3 to 5 that open on a question naming the article's title ("Which NFL team won Super Bowl
    50?"). Every later question of the chat is a follow-up, asked after the chat's earlier questions as a user
    would: one that names the article again drops the name with its preposition ("Who headlined the halftime
    show at Super Bowl 50?" -> "Who headlined the halftime show?") or says "it" (or "its") instead; one that does
    not name it stays as asked. Those follow-ups are the items returned."""
    rng = random.Random(seed)
    by_id = {item.id: item for item in items}
    out: list[Item] = []
    for article in articles:
        title = re.escape(re.sub(r"\s*\(.*\)$", "", article.title.replace("_", " ")))
        named = re.compile(rf"\b(?:the\s+)?{title}(?:'s)?(?!\w)", re.I)
        dropped = re.compile(rf",?\s+{_PREPOSITION}\s+(?:the\s+)?{title}(?!\w|'s)", re.I)
        asked = [by_id[i] for i in article.questions if i in by_id]
        start = 0
        while start < len(asked):
            chat = asked[start:start + rng.randint(3, 5)]
            start += len(chat)
            opener = next((k for k, item in enumerate(chat) if named.search(item.question)), None)
            if opener is None:
                continue
            history = [chat[opener].question]
            for item in chat[opener + 1:]:
                question = dropped.sub("", item.question, count=1)
                if question == item.question:
                    question = named.sub(_pronoun, item.question, count=1)
                out.append(Item(item.id, question, item.answers, tuple(history)))
                history.append(question)
    return out


_PREPOSITION = r"(?:in|at|of|for|on|about|from|by|to|with|during|within|inside|under|near|among|around)"


def _pronoun(name: re.Match[str]) -> str:
    return "its" if name.group(0).lower().endswith("'s") else "it"


def _item(qa: dict[str, Any]) -> Item:
    answers = [] if qa.get("is_impossible") else [a["text"] for a in qa["answers"] if a["text"].strip()]
    return Item(id=qa["id"], question=qa["question"], answers=tuple(dict.fromkeys(answers)))


def write_articles(articles: list[Article], docs_dir: Path) -> int:
    """Write each article as `docs_dir/<safe title>.txt`, rewriting only changed files and deleting .txt
    files of articles no longer in the set (so the index matches the file). Returns how many files changed."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    changed = 0
    wanted = set()
    for article in articles:
        target = docs_dir / article.filename
        wanted.add(target.name)
        if target.exists() and target.read_text(encoding="utf-8") == article.text:
            continue
        # newline="" keeps the text byte-for-byte, so the indexed text equals Article.text on every OS
        target.write_text(article.text, encoding="utf-8", newline="")
        changed += 1
    for stale in docs_dir.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
            changed += 1
    return changed


def default_cache(path: Path) -> Path:
    return Path(".verbatim-eval") / Path(path).stem


def open_assistant(articles: list[Article], cache: Path, settings: Settings) -> Assistant:
    """An Assistant over the articles, written to `cache/docs` and indexed into `settings.index_dir`
    incrementally (an unchanged set embeds nothing)."""
    docs = cache / "docs"
    write_articles(articles, docs)
    return open_folder(docs, settings, "squad")


def open_folder(docs: Path, settings: Settings, name: str) -> Assistant:
    """An Assistant over the files of `docs`, indexed into `settings.index_dir` incrementally; documents of
    files that left the folder are taken out."""
    from assistant import Assistant
    from embeddings.indexer import Indexer

    indexer = Indexer(settings)
    for info in indexer.documents():
        source = Path(info.source)
        if source.resolve().parent == docs.resolve() and not source.exists():
            indexer.remove(info.doc_id)
    summary = indexer.index([docs], progress=sys.stderr.isatty())
    print(f"{name} index {settings.index_dir}: {summary.line()}", file=sys.stderr)
    return Assistant.open(settings)
