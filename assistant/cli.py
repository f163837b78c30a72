"""`verbatim index | ask | chat | docs | remove | serve`: the command line.

Heavy imports (torch, the model) happen inside the commands that need them, so `verbatim --help` and
`verbatim docs` start at once.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path


CHAT_HELP = """Ask a question about the indexed documents; follow-ups ("who supervises it?") work.
  /help    this help
  /clear   start over (forget the earlier questions)
  an empty line or Ctrl-D ends the chat"""


def _settings(args: argparse.Namespace):
    from embeddings.settings import Settings

    return Settings.from_env(index_dir=getattr(args, "index", None))


def open_assistant(settings, progress: bool):
    """Assistant.open, first saying on stderr when it will build the index from corpus/ (the quick start in the
    checkout; anywhere else a missing index is an error)."""
    from assistant import Assistant
    from embeddings import store

    if store.read_manifest(Path(settings.index_dir)) is None and Path("corpus").is_dir():
        print(f"No index at {settings.index_dir}: building it from corpus/ (first start, a few seconds)…",
              file=sys.stderr, flush=True)
    return Assistant.open(settings, progress=progress)


def _open(args: argparse.Namespace):
    return open_assistant(_settings(args), sys.stderr.isatty())


def _render(answer) -> str:
    """An Answer as terminal text: the quotes with their sources, or the abstention and nearest passages.

    Quotes show as read (line wraps joined); a paged document (PDF) is cited by page, others by characters."""
    from assistant.answer import reading

    lines: list[str] = []
    if answer.abstained:
        lines.append(answer.text)
        for n, p in enumerate(answer.passages[:3], 1):
            where = " › ".join(x for x in (p.title, p.section) if x)
            at = "" if p.page is None else f", p. {p.page}"
            snippet = " ".join(p.text.split())
            lines.append(f"  [{n}] {where} ({p.source}{at})\n      {snippet[:200]}{'…' if len(snippet) > 200 else ''}")
        return "\n".join(lines)
    for n, q in enumerate(answer.quotes, 1):
        where = " › ".join(x for x in (q.title, q.section) if x)
        at = f"characters {q.start}–{q.end}" if q.page is None else f"p. {q.page}"
        lines.append(f"[{n}] “{reading(q.shown)}”\n    — {where} ({q.source}, {at}, score {q.score:.2f})")
    lines.append(f"confidence {answer.confidence:.2f}")
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> int:
    from embeddings.indexer import Indexer, default_corpus

    paths = args.paths or ([] if args.rebuild else [default_corpus()])
    summary = Indexer(_settings(args)).index(paths, progress=sys.stderr.isatty() or args.progress, rebuild=args.rebuild)
    print(summary.line())
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from embeddings import store
    from embeddings.store import DocInfo

    folder = Path(_settings(args).index_dir)
    manifest = store.read_manifest(folder)
    docs = [DocInfo(**d) for d in (manifest or {}).get("documents", [])]
    if args.json:
        print(json.dumps([{k: getattr(d, k) for k in DocInfo.__slots__} for d in docs], ensure_ascii=False, indent=1))
        return 0
    if manifest is None:
        print(f"N{store.no_index(folder)[1:]}.")
        return 0
    if not docs:
        print(f"The index at {folder.resolve()} is empty; add files with `verbatim index PATH`.")
        return 0
    print(f"{'id':16}  {'passages':>8}  {'indexed at':25}  title / source")
    for d in docs:
        print(f"{d.doc_id:16}  {d.passages:>8}  {d.indexed_at:25}  {d.title[:70]}\n{'':55}{d.source}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from embeddings import store
    from embeddings.indexer import Indexer, counted

    settings = _settings(args)
    if store.read_manifest(Path(settings.index_dir)) is None:   # not even a lock file where there is no index
        raise FileNotFoundError(store.no_index(Path(settings.index_dir)))
    gone = Indexer(settings).remove(args.doc)
    print(f"removed {gone.doc_id} ({gone.source}, {counted(gone.passages, 'passage')})")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _open(args).ask(" ".join(args.question), history=args.history or [], doc_ids=args.doc or None)
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1) if args.json else _render(answer))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant import QuestionError
    from assistant.chat import ChatSession

    session = ChatSession(_open(args), doc_ids=tuple(args.doc or ()))
    print("Ask about the documents; follow-ups work. /help lists the commands; an empty line or Ctrl-D ends.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        if question == "/help":
            print(CHAT_HELP)
            continue
        if question == "/clear":
            session.clear()
            print("(cleared: the next question starts a new chat)")
            continue
        if question.startswith("/") and " " not in question:
            print(f"unknown command {question}; /help lists the commands")
            continue
        try:
            print(_render(session.ask(question)))
        except QuestionError as exc:
            print(f"error: {exc}")


def cmd_serve(args: argparse.Namespace) -> int:
    import app

    return app.main(_settings(args)) or 0


INDEX_HELP = "index folder (default .verbatim, or $VERBATIM_INDEX)"


DOC_HELP = "answer only from this document (repeatable; `verbatim docs` lists the ids)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="verbatim", description="Answers questions from your documents in their own words.")
    top.add_argument("--index", help=INDEX_HELP)
    # --index also after the command (`verbatim ask --index DIR ...`); SUPPRESS keeps one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", default=argparse.SUPPRESS, help=INDEX_HELP)
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    p = command("index", "add or update files and folders (default: the bundled corpus/)")
    p.add_argument("paths", nargs="*")
    p.add_argument("--rebuild", action="store_true", help="re-read every indexed file (after a model or format change)")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(run=cmd_index)
    p = command("docs", "list the indexed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_docs)
    p = command("remove", "take a document out of the index")
    p.add_argument("doc", metavar="DOC_ID_OR_PATH")
    p.set_defaults(run=cmd_remove)
    p = command("ask", "answer one question")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print the Answer JSON")
    p.add_argument("--history", action="append", metavar="EARLIER_QUESTION", help="an earlier question of the chat (repeatable, oldest first)")
    p.add_argument("--doc", action="append", metavar="DOC_ID_OR_PATH", help=DOC_HELP)
    p.set_defaults(run=cmd_ask)
    p = command("chat", "a terminal chat; follow-ups work (/help lists its commands)")
    p.add_argument("--doc", action="append", metavar="DOC_ID_OR_PATH", help=DOC_HELP)
    p.set_defaults(run=cmd_chat)
    p = command("serve", "start the web chat (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)")
    p.set_defaults(run=cmd_serve)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code = args.run(args)
        sys.stdout.flush()   # here, where a closed pipe is caught, not at exit
        return code
    except BrokenPipeError:   # the reader went away (`verbatim docs | head`): nothing more to say
        # Point stdout at /dev/null so the interpreter's final flush does not raise (and print) again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted; the index on disk is unchanged unless a save had finished", file=sys.stderr)
        return 130
    except KeyError as exc:
        print(f"verbatim: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except Exception as exc:   # bad question, missing path, unusable or busy index: the message says the fix
        print(f"verbatim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
