"""`python -m eval` (console script `verbatim-eval`): how well the assistant answers a gold set or SQuAD.

Prints a markdown table of metrics; optionally writes the Answer JSON per question (--predictions), a
report folder (--report), compares settings side by side (--compare) and gates CI on floors (--gate).
Exit codes: 0 done (gate passed), 1 a metric broke its floor or ceiling, 2 unusable input.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.answer import QuestionError
from embeddings.settings import Settings
from eval import cuad, datasets, metrics, report, squad
from eval.datasets import Item
from eval.runner import Run, run

EXAMPLES = """examples:
  python -m eval --data eval/data/corpus_qa.jsonl
  python -m eval --data eval/data/corpus_qa.jsonl --predictions preds.jsonl --report out/
  python -m eval --squad ../shared/benchmarks/squad/dev-v1.1.json --sample 1000 --seed 0
  python -m eval --squad ../shared/benchmarks/squad/dev-v1.1.json --follow-ups
  python -m eval --cuad ../shared/benchmarks/cuad --compare reader=on,reader=off
  python -m eval --data eval/data/corpus_qa.jsonl --compare fusion=rrf,fusion=convex
  python -m eval --data eval/data/corpus_qa.jsonl --gate eval/floors.json
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0], epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="JSONL gold set (id, question, answers, history), as in DESIGN.md")
    source.add_argument("--squad", type=Path, help="SQuAD v1.1 or v2.0 JSON; its articles get an index of their own")
    source.add_argument("--cuad", type=Path, metavar="DIR",
                        help="a CUAD folder (dev.jsonl + docs/): each question asked of its own contract")
    parser.add_argument("--contracts", choices=list(cuad.PARTS), default="all",
                        help="with --cuad: which contracts (by rank in file-name order): train (odd, the reader "
                             "learns from them), calibrate (0, 4, 8, ...), measure (2, 6, 10, ...: seen by neither), "
                             "or all (default)")
    parser.add_argument("--follow-ups", action="store_true",
                        help="with --squad: ask its questions as chats opening on a question that names the "
                             "article, and measure the later questions, which name it no more (dropped with its "
                             "preposition, or 'it')")
    parser.add_argument("--cache", type=Path, help="SQuAD article files and index (default .verbatim-eval/<file stem>/)")
    parser.add_argument("--index", type=Path, help="index folder to answer from (default VERBATIM_INDEX or .verbatim/)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting (repeatable)")
    parser.add_argument("--compare", metavar="A,B,...",
                        help="settings side by side: comma-separated NAME=VALUE items, ';' combines two in one item")
    parser.add_argument("--sample", type=int, metavar="N", help="ask N questions picked at random (reproducibly, see --seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed for --sample (default 0)")
    parser.add_argument("--limit", type=int, metavar="N", help="ask only the first N questions (after --sample)")
    parser.add_argument("--predictions", type=Path, metavar="FILE", help="write one Answer JSON per question (with its id)")
    parser.add_argument("--report", type=Path, metavar="DIR", help="write report.md, metrics.json and plots into DIR")
    parser.add_argument("--gate", type=Path, metavar="FLOORS", help="exit 1 when a metric breaks a floor/ceiling in FLOORS")
    parser.add_argument("--min-abstention-recall", type=float, default=0.8,
                        help="threshold pick: abstention recall to reach (default 0.8)")
    parser.add_argument("--max-false-abstention", type=float, default=0.2,
                        help="threshold pick: false-abstention rate not to exceed (default 0.2)")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        parser.error(f"--limit must be greater than 0. Currently, --limit is {args.limit}")
    if args.follow_ups and not args.squad:
        parser.error("--follow-ups only applies to --squad (a JSONL gold set gives its follow-ups a history)")
    if args.cache and not args.squad:
        parser.error("--cache only applies to --squad; leave it out for a JSONL gold set")
    if args.contracts != "all" and not args.cuad:
        parser.error("--contracts only applies to --cuad")
    return args


def variants(spec: str | None, base: Settings) -> list[tuple[str, Settings]]:
    """("base", base) without --compare; else one (item, settings) per comma-separated item of `spec`."""
    if not spec:
        return [("base", base)]
    out = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            raise ValueError(f"--compare {spec!r} has an empty item; separate NAME=VALUE items by single commas")
        settings = base
        for assignment in item.split(";"):
            settings = settings.parse_assignment(assignment.strip())
        out.append((item, settings))
    return out


def predictions_path(path: Path, label: str, several: bool) -> Path:
    """`path` itself for one run; `<stem>.<label>.<suffix>` per run when comparing settings."""
    if not several:
        return path
    safe = re.sub(r"[^\w.=-]", "_", label)
    return path.with_name(f"{path.stem}.{safe}{path.suffix}")


def write_predictions(path: Path, run_: Run) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for outcome in run_.outcomes:
            f.write(json.dumps(outcome.answer.to_dict(id=outcome.item.id), ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings.from_env(index_dir=args.index)
        for assignment in args.set:
            settings = settings.parse_assignment(assignment)
        if args.squad:
            articles, items = squad.load(args.squad)
            if args.follow_ups:
                items = squad.follow_ups(articles, items)
            cache = args.cache or squad.default_cache(args.squad)
            settings = settings.replace(index_dir=args.index or cache / "index")
            source = args.squad
        elif args.cuad:
            items, source = cuad.part(cuad.load(args.cuad), args.contracts), args.cuad / "dev.jsonl"
            settings = settings.replace(index_dir=args.index or cuad.default_cache() / "index")
        else:
            items, source = datasets.load_jsonl(args.data), args.data
        items = _select(items, args)
        runs_settings = variants(args.compare, settings)
        limits = metrics.load_floors(args.gate) if args.gate else None
        if args.squad:
            bot = squad.open_assistant(articles, cache, settings)
        elif args.cuad:
            bot, items = cuad.open_assistant(args.cuad, items, settings)
        else:
            from assistant import Assistant

            bot = Assistant.open(settings)
    except (ValueError, OSError) as e:  # DatasetError, bad settings and unreadable files all say their fix
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        # with_settings shares the loaded model and index, so each compared setting costs only its questions
        runs = [run(bot.with_settings(s) if args.compare else bot, items, label) for label, s in runs_settings]
    except QuestionError as e:
        print(f"error: {e}; fix or remove that question", file=sys.stderr)
        return 2

    summaries = [metrics.summarize(r.outcomes, r.settings.top_k, r.settings.max_quotes,
                                   args.min_abstention_recall, args.max_false_abstention) for r in runs]
    dataset = ("cuad" + ("" if args.contracts == "all" else f" ({args.contracts} contracts)")) if args.cuad else Path(source).stem
    dataset += " follow-ups" if args.follow_ups else ""
    print(f"{dataset}: {len(items)} questions\n")
    print(report.table([r.label for r in runs], summaries))
    if args.predictions:
        for r in runs:
            write_predictions(predictions_path(args.predictions, r.label, len(runs) > 1), r)
    if args.report:
        report.write(args.report, dataset, str(source), runs, summaries)
        print(f"\nreport written to {args.report / 'report.md'}")
    if limits is None:
        return 0
    broken = [f"{r.label}: {line}" if len(runs) > 1 else line for r, s in zip(runs, summaries) for line in metrics.gate(s, limits)]
    if broken:
        print(f"\ngate FAILED ({args.gate}):\n" + "\n".join(f"  {line}" for line in broken))
        return 1
    print(f"\ngate passed ({args.gate})")
    return 0


def _select(items: list[Item], args: argparse.Namespace) -> list[Item]:
    if args.sample is not None:
        items = datasets.sample(items, args.sample, args.seed)
    return items[: args.limit] if args.limit else items


if __name__ == "__main__":
    sys.exit(main())
