"""`verbatim index | ask | chat | docs | remove | serve`: the command line.

Heavy imports (torch, the model) happen inside the commands that need them, so `verbatim --help` and
`verbatim docs` start at once.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _settings(args: argparse.Namespace):
    from embeddings.settings import Settings

    return Settings.from_env(index_dir=getattr(args, "index", None))


def _render(answer) -> str:
    """An Answer as terminal text: the quotes with their sources, or the abstention and nearest passages."""
    lines: list[str] = []
    if answer.abstained:
        lines.append(answer.text)
        for n, p in enumerate(answer.passages[:3], 1):
            where = " › ".join(x for x in (p.title, p.section) if x)
            snippet = " ".join(p.text.split())
            lines.append(f"  [{n}] {where} ({p.source})\n      {snippet[:200]}{'…' if len(snippet) > 200 else ''}")
        return "\n".join(lines)
    for n, q in enumerate(answer.quotes, 1):
        where = " › ".join(x for x in (q.title, q.section) if x)
        lines.append(f"[{n}] “{q.text}”\n    — {where} ({q.source}, characters {q.start}–{q.end}, score {q.score:.2f})")
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

    manifest = store.read_manifest(Path(_settings(args).index_dir))
    docs = [DocInfo(**d) for d in (manifest or {}).get("documents", [])]
    if args.json:
        print(json.dumps([{k: getattr(d, k) for k in DocInfo.__slots__} for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        print("The index is empty; run `verbatim index` (the bundled corpus) or `verbatim index PATH`.")
        return 0
    print(f"{'id':16}  {'passages':>8}  {'indexed at':25}  title / source")
    for d in docs:
        print(f"{d.doc_id:16}  {d.passages:>8}  {d.indexed_at:25}  {d.title[:70]}\n{'':55}{d.source}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from embeddings.indexer import Indexer

    gone = Indexer(_settings(args)).remove(args.doc)
    print(f"removed {gone.doc_id} ({gone.source}, {gone.passages} passages)")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant import Assistant

    bot = Assistant.open(_settings(args), progress=sys.stderr.isatty())
    answer = bot.ask(" ".join(args.question), history=args.history or [])
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1) if args.json else _render(answer))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant import Assistant, QuestionError
    from assistant.chat import ChatSession

    session = ChatSession(Assistant.open(_settings(args), progress=sys.stderr.isatty()))
    print("Ask about the documents; follow-ups work. Empty line or Ctrl-D ends, /clear starts over.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        if question == "/clear":
            session.clear()
            continue
        try:
            print(_render(session.ask(question)))
        except QuestionError as exc:
            print(f"error: {exc}")


def cmd_serve(args: argparse.Namespace) -> int:
    import app

    return app.main(_settings(args)) or 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="verbatim", description="Answers questions from your documents in their own words.")
    top.add_argument("--index", help="index folder (default .verbatim, or $VERBATIM_INDEX)")
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="add or update files and folders (default: the bundled corpus/)")
    p.add_argument("paths", nargs="*")
    p.add_argument("--rebuild", action="store_true", help="re-read every indexed file (after a model or format change)")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(run=cmd_index)
    p = sub.add_parser("docs", help="list the indexed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_docs)
    p = sub.add_parser("remove", help="take a document out of the index")
    p.add_argument("doc", metavar="DOC_ID_OR_PATH")
    p.set_defaults(run=cmd_remove)
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print the Answer JSON")
    p.add_argument("--history", action="append", metavar="EARLIER_QUESTION", help="an earlier question of the chat (repeatable, oldest first)")
    p.set_defaults(run=cmd_ask)
    p = sub.add_parser("chat", help="a terminal chat; follow-ups work")
    p.set_defaults(run=cmd_chat)
    p = sub.add_parser("serve", help="start the web chat (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)")
    p.set_defaults(run=cmd_serve)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
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
