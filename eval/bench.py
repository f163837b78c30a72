"""`python -m eval.bench`: the assistant against this machine's limit and against txtai and LangChain FAISS.

Every target is a ratio whose two sides run in the same round, interleaved question by question (the
machine is shared, so absolute times drift); each round gives one ratio and the table shows min/median/max
over the rounds. The limit is what any program using the model pays: sentence-transformers' default torch
backend embedding the question once plus one FAISS search (query), one encoder pass over the passages
(indexing), import + load + one encode (start-up). Prints the table and writes it with the raw measures as JSON.
Left out unless asked: the scale runs (`--scale 100000,1000000`, minutes each) and the peers when not installed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from eval.bench_stats import Check, Ratio, machine, spread

SECTIONS = ("query", "index", "reindex", "startup", "web", "memory")
ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "benchmarks" / "squad" / "dev-v1.1.json"
CORPUS_QA = ROOT / "eval" / "data" / "corpus_qa.jsonl"
TARGETS = {   # issues 6 and 12 (the reader's second model pass); a ratio is met when its median is at most the target
    "query": 6.0, "query_peers": 6.0, "query_p95_ms": 250.0, "index": 1.3, "index_peers": 1.3, "reindex_seconds": 1.0,
    "ask_start": 1.2, "web_start": 1.2, "scale_recall": 0.95, "scale_ask_ms": 50.0,
}
EXAMPLES = """examples:
  python -m eval.bench                               # everything but scale (about 15 minutes on 2 cores)
  python -m eval.bench --quick                       # seconds: bundled corpus, few questions, 2 rounds
  python -m eval.bench --sections query,index --rounds 5
  python -m eval.bench --sections scale --scale 100000,1000000
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0], epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated, among {', '.join(SECTIONS)}, scale (default: all but scale)")
    p.add_argument("--rounds", type=int, default=5, help="repeats of each ratio (default 5)")
    p.add_argument("--questions", type=int, default=60, help="questions per round and corpus (default 60)")
    p.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v1.1 JSON (default ../shared/benchmarks/squad/dev-v1.1.json)")
    p.add_argument("--squad-index", type=Path, default=ROOT / ".verbatim-eval" / "dev-v1.1" / "index",
                   help="its index, as `python -m eval --squad` builds it (built when missing)")
    p.add_argument("--index-articles", type=int, default=8, help="SQuAD articles indexed in the indexing rounds (default 8)")
    p.add_argument("--peers", default="txtai,langchain", help="peers to compare with ('' for none)")
    p.add_argument("--scale", default="", metavar="N,N", help="passage counts for the scale section, e.g. 100000,1000000")
    p.add_argument("--work", type=Path, help="folder for the indexes built here (default: a temporary one)")
    p.add_argument("--json", type=Path, default=ROOT / ".verbatim-bench" / "bench.json", help="where to write the results")
    p.add_argument("--quick", action="store_true",
                   help="seconds, for tests: bundled corpus only, 2 rounds of 5 questions, no peers, no SQuAD")
    args = p.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in (*SECTIONS, "scale")]
    if unknown:
        p.error(f"unknown section {', '.join(unknown)}; choose among {', '.join(SECTIONS)}, scale")
    if args.rounds < 1 or args.questions < 1:
        p.error("--rounds and --questions must be at least 1")
    args.scale = [int(x) for x in args.scale.split(",") if x.strip()] if args.scale else []
    if "scale" in args.sections and not args.scale:
        p.error("the scale section needs --scale N[,N...] (passage counts, e.g. 100000,1000000)")
    if args.scale and "scale" not in args.sections:
        args.sections.append("scale")
    args.peers = [x.strip() for x in args.peers.split(",") if x.strip()]
    if args.quick:
        args.rounds, args.questions, args.peers, args.index_articles = 2, 5, [], 0
        args.sections = [s for s in args.sections if s not in ("web", "memory", "scale")]
    return args


class Bench:
    """One run: the shared models, the indexes it built, and every ratio, check and measure so far."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        from embeddings.encoder import SentenceEncoder
        from embeddings.settings import Settings

        self.args = args
        self.work = work
        self.settings = Settings()
        self.model_path = self.settings.model_path
        self.ours = SentenceEncoder(self.model_path, self.settings.model_name, self.settings.batch_size)
        self.limit = SentenceEncoder(self.model_path, self.settings.model_name, self.settings.batch_size, backend="torch")
        self.ratios: list[Ratio] = []
        self.checks: list[Check] = []
        self.measures: dict[str, object] = {}
        self.peers: dict[str, object] = {}
        self.skipped: dict[str, str] = {}
        self._squad_bot = None

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def torch_threads(self, texts: list[str], label: str) -> int:
        """Set torch to the thread count (1 or all cores) that encodes `texts` fastest now, and return it.

        On a busy 2-core machine torch's default of two threads can be several times slower than one (its
        threads wait on each other); the limit and the torch-based peers get whichever is faster here.
        """
        import os

        import torch

        model = self.limit.model
        best: tuple[float, int] = (float("inf"), torch.get_num_threads())
        for threads in sorted({1, os.cpu_count() or 1}):
            torch.set_num_threads(threads)
            model.encode(texts[:4])
            began = time.perf_counter()
            for _ in range(3):
                model.encode(texts, batch_size=self.settings.batch_size)
            best = min(best, (time.perf_counter() - began, threads))
        torch.set_num_threads(best[1])
        self.measures[f"torch_threads.{label}"] = best[1]
        return best[1]

    # -- corpora -------------------------------------------------------------------------------------------

    def bundled_index(self) -> Path:
        """The bundled corpus indexed once into the work folder (the start-up, reindex and query rounds use it)."""
        folder = self.work / "bundled"
        if not (folder / "manifest.json").is_file():
            from embeddings.indexer import Indexer, default_corpus

            Indexer(self.settings.replace(index_dir=folder), self.ours).index([ROOT / default_corpus()])
        return folder

    def bundled_questions(self) -> list[str]:
        from eval.datasets import load_jsonl

        return [item.question for item in load_jsonl(CORPUS_QA) if not item.history][: self.args.questions]

    def squad_questions(self, n: int) -> list[str]:
        from eval import datasets, squad

        _, items = squad.load(self.args.squad)
        return [item.question for item in datasets.sample(items, min(n, len(items)), 0)]

    def squad_settings(self):
        """Settings over the SQuAD index, built first (by the eval's own path) when missing."""
        from eval import squad

        settings = self.settings.replace(index_dir=self.args.squad_index)
        if not (self.args.squad_index / "manifest.json").is_file():
            articles, _ = squad.load(self.args.squad)
            squad.open_assistant(articles, self.args.squad_index.parent, settings)
        return settings

    def squad_bot(self):
        """The assistant over the SQuAD index, loaded once for every section that asks it."""
        if self._squad_bot is None:
            from assistant import Assistant

            settings = self.squad_settings()
            self._squad_bot = Assistant(settings, _load(settings), self.ours)
        return self._squad_bot

    def peer(self, name: str):
        if name not in self.peers and name not in self.skipped:
            from eval.bench_peers import open_peer

            try:
                self.peers[name] = open_peer(name, self.model_path)
            except ImportError as exc:
                self.skipped[name] = f"not installed ({exc}); pip install '.[bench]'"
                self.say(f"peer {name} skipped: {self.skipped[name]}")
        return self.peers.get(name)

    # -- sections ------------------------------------------------------------------------------------------

    def query(self, label: str, bot, questions: list[str]) -> None:
        """ask p50 against the limit (torch embed + one FAISS search) and the peers' search, interleaved."""
        from assistant.retrieval import dense_ranking

        index, k = bot.index, bot.settings.top_k
        limit_model = self.limit.model

        def limit(q: str) -> None:   # the search as the assistant runs it (one thread: the faster way for one query)
            dense_ranking(index, limit_model.encode([q], normalize_embeddings=True, convert_to_numpy=True)[0], k)

        runners: dict[str, Callable[[str], object]] = {"limit": limit, "ours": bot.ask}
        for name in self.args.peers:
            peer = self.peer(name)
            if peer is not None:
                self.say(f"  {name}: indexing the {label} passages for its queries")
                peer.build(bot.index.passage_texts())
                runners[name] = peer.search
        threads = self.torch_threads(questions[:1], f"query {label}")
        self.say(f"  torch runs on {threads} thread(s) for the limit and the peers (the faster here now)")
        for run in runners.values():
            run(questions[0])   # first-call costs (lazy loads, first kernels) are start-up, not query time
        p50: dict[str, list[float]] = {name: [] for name in runners}
        p95: list[float] = []
        for r in range(self.args.rounds):
            times: dict[str, list[float]] = {name: [] for name in runners}
            names = list(runners)
            for i, q in enumerate(questions):
                for name in names[i % len(names):] + names[: i % len(names)]:   # rotate: no one always goes first
                    began = time.perf_counter()
                    runners[name](q)
                    times[name].append(time.perf_counter() - began)
            for name in runners:
                p50[name].append(statistics.median(times[name]) * 1e3)
            p95.append(statistics.quantiles(times["ours"], n=20)[-1] * 1e3 if len(times["ours"]) > 1 else times["ours"][0] * 1e3)
            self.say(f"  query {label} round {r + 1}: " + ", ".join(f"{n} {p50[n][-1]:.1f} ms" for n in runners))
        self.measures[f"query.{label}.p50_ms"] = {name: spread(v) for name, v in p50.items()}
        self.measures[f"query.{label}.encoder_backend"] = bot.encoder.backend
        self.ratios.append(Ratio(f"query p50 {label}: ask / limit (torch embed + FAISS search)", TARGETS["query"],
                                 [o / l for o, l in zip(p50["ours"], p50["limit"])]))
        self.ratios.append(Ratio(f"query p95 {label}: ask, milliseconds", TARGETS["query_p95_ms"], p95))
        self.peer_ratio(p50, f"query p50 {label}: ask / fastest peer search", TARGETS["query_peers"],
                        "we also answer (quote sentences); the peers only retrieve passages")

    def index(self, label: str, paths: list[Path]) -> None:
        """Building an index from scratch against one encoder pass over its passages (and the peers' builds)."""
        from embeddings import store
        from embeddings.indexer import Indexer, embedded_text

        def build(folder: Path):
            shutil.rmtree(folder, ignore_errors=True)
            return Indexer(self.settings.replace(index_dir=folder), self.ours).index(paths)

        summary = build(self.work / f"index-{label}")
        built = store.load(self.work / f"index-{label}", self.settings.model_name)
        texts = [embedded_text(t, built.sections[int(s)], built.documents[int(d)].title)
                 for t, s, d in zip(built.passage_texts(), built.p_section, built.p_doc)]   # what the indexer embeds
        plain = built.passage_texts()
        limit_model = self.limit.model
        runners: dict[str, Callable[[], object]] = {
            "limit": lambda: limit_model.encode(texts, batch_size=self.settings.batch_size, normalize_embeddings=True),
            "ours": lambda: build(self.work / f"index-{label}-round"),
        }
        for name in self.args.peers:
            peer = self.peer(name)
            if peer is not None:
                runners[name] = lambda peer=peer: peer.build(plain)
        threads = self.torch_threads(texts[:32], f"index {label}")
        self.say(f"  torch runs on {threads} thread(s) for the limit and the peers (the faster here now)")
        seconds: dict[str, list[float]] = {name: [] for name in runners}
        for r in range(self.args.rounds):
            names = list(runners)
            for name in names[r % len(names):] + names[: r % len(names)]:
                began = time.perf_counter()
                runners[name]()
                seconds[name].append(time.perf_counter() - began)
            self.say(f"  index {label} round {r + 1}: " + ", ".join(f"{n} {seconds[n][-1]:.2f} s" for n in runners))
        self.measures[f"index.{label}"] = {
            "passages": summary.passages, "documents": summary.documents, "encoder_backend": self.ours.backend,
            "seconds": {name: spread(v) for name, v in seconds.items()},
            "passages_per_second_limit": spread([summary.passages / s for s in seconds["limit"]]),
        }
        self.ratios.append(Ratio(f"index build {label} ({summary.passages} passages): build / one encoder pass",
                                 TARGETS["index"], [o / l for o, l in zip(seconds["ours"], seconds["limit"])]))
        self.peer_ratio(seconds, f"index build {label}: ours / fastest peer", TARGETS["index_peers"],
                        "we also split sentences, pool their vectors and build two BM25 indexes")

    def peer_ratio(self, measured: dict[str, list[float]], title: str, target: float, note: str) -> None:
        """Ours against the fastest peer of each round, when any peer ran (`measured`: runner -> one value a round)."""
        peer_names = [n for n in measured if n not in ("limit", "ours")]
        if peer_names:
            fastest = [min(measured[n][r] for n in peer_names) for r in range(self.args.rounds)]
            self.ratios.append(Ratio(f"{title} ({', '.join(peer_names)})", target,
                                     [o / f for o, f in zip(measured["ours"], fastest)], note=note))

    def reindex(self) -> None:
        """Re-indexing the unchanged bundled corpus: no encoder call, under a second (in-process and as a command)."""
        from embeddings.encoder import SentenceEncoder
        from embeddings.indexer import Indexer, default_corpus
        from eval.bench_startup import timed_run

        folder = self.bundled_index()
        corpus = ROOT / default_corpus()
        inside, embedded, loaded = [], 0, False
        command = []
        for _ in range(self.args.rounds):
            encoder = SentenceEncoder(self.model_path, self.settings.model_name)   # fresh: did anything load it?
            began = time.perf_counter()
            summary = Indexer(self.settings.replace(index_dir=folder), encoder).index([corpus])
            inside.append(time.perf_counter() - began)
            embedded += summary.embedded
            loaded |= encoder._backend is not None or encoder._model is not None
            if "startup" in self.args.sections:
                command.append(timed_run([sys.executable, "-m", "assistant.cli", "--index", str(folder), "index", str(corpus)])[0])
        self.measures["reindex.seconds"] = spread(inside)
        self.checks.append(Check("re-index of the unchanged bundled corpus: texts embedded", embedded, embedded == 0))
        self.checks.append(Check("re-index of the unchanged bundled corpus: model loaded", loaded, not loaded))
        self.ratios.append(Ratio("re-index unchanged bundled corpus, in process: seconds / 1 s", TARGETS["reindex_seconds"], inside))
        if command:
            self.measures["reindex.command_seconds"] = spread(command)
            self.ratios.append(Ratio("re-index unchanged bundled corpus, `verbatim index` command: seconds / 1 s",
                                     TARGETS["reindex_seconds"], command, note="includes starting Python and imports"))

    def startup(self) -> None:
        """`verbatim ask` cold against import + load + one encode; `verbatim docs`/`--help` must not import torch."""
        from eval import bench_startup as st

        folder = self.bundled_index()
        question = "How is SoFi USD backed?"
        st.ask_start(folder, question)   # the first run of a machine may export the ONNX model: not start-up
        for name, argv, must_not in (("docs", ["--index", str(folder), "docs"], True), ("--help", ["--help"], True),
                                     ("ask", ["--index", str(folder), "ask", question], False)):
            torch, seconds = st.imports_torch(argv)
            self.measures[f"startup.{name}.seconds"] = seconds
            self.checks.append(Check(f"`verbatim {name}` imports torch", torch, not (torch and must_not),
                                     note="must not" if must_not else "may; not with the ONNX backend"))
        limit, ask = [], []
        for r in range(self.args.rounds):
            pair = [("limit", lambda: st.limit_start(self.model_path, question)), ("ask", lambda: st.ask_start(folder, question))]
            for name, run in pair[r % 2:] + pair[: r % 2]:
                (limit if name == "limit" else ask).append(run())
            self.say(f"  start-up round {r + 1}: limit {limit[-1]:.2f} s, ask {ask[-1]:.2f} s")
        self.measures["startup.limit_seconds"] = spread(limit)
        self.measures["startup.ask_seconds"] = spread(ask)
        self.ratios.append(Ratio("`verbatim ask` cold start / (import + load model + one encode)", TARGETS["ask_start"],
                                 [a / b for a, b in zip(ask, limit)]))
        self._limit_start = limit

    def web(self) -> None:
        """The web chat ready over the bundled index, less Gradio's own start, against the start-up limit."""
        from eval import bench_startup as st

        folder = self.bundled_index()
        limit = getattr(self, "_limit_start", None) or []
        web, gradio = [], []
        for r in range(self.args.rounds):
            web.append(st.web_ready(folder, self.work))
            gradio.append(st.gradio_ready(self.work))
            if len(limit) <= r:
                limit.append(st.limit_start(self.model_path, "How is SoFi USD backed?"))
            self.say(f"  web round {r + 1}: app {web[-1]:.2f} s, gradio alone {gradio[-1]:.2f} s, limit {limit[r]:.2f} s")
        self.measures["web.ready_seconds"] = spread(web)
        self.measures["web.gradio_alone_seconds"] = spread(gradio)
        self.ratios.append(Ratio("web chat ready: (app - Gradio's own start) / (import + load model + one encode)",
                                 TARGETS["web_start"], [max(w - g, 0.0) / l for w, g, l in zip(web, gradio, limit)]))

    def memory(self) -> None:
        from eval import bench_startup as st

        self.squad_settings()   # makes sure the index exists
        questions = self.squad_questions(self.args.questions)
        self.measures["memory.web_squad"] = st.web_memory(self.args.squad_index, questions, self.work)
        mb = self.measures["memory.web_squad"]["peak_rss_bytes"] / 2**20
        self.say(f"  web chat serving the SQuAD index: peak RSS {mb:.0f} MiB")

    def scale(self, bot) -> None:
        from eval import bench_scale

        sample = bot.index.passage_texts()[:64]   # the encoder's speed on this corpus, for the embedding estimate
        self.limit.model.encode(sample[:8])
        began = time.perf_counter()
        self.limit.model.encode(sample, batch_size=self.settings.batch_size)
        passages_per_second = len(sample) / (time.perf_counter() - began)
        questions = self.squad_questions(min(self.args.questions * 4, 200))
        for n in self.args.scale:
            result = bench_scale.run(bot, questions, n, passages_per_second, say=self.say)
            self.measures[f"scale.{n}"] = result
            self.checks.append(Check(f"scale {result['passages']:,}: recall@10 vs exact ({result['dense']})",
                                     round(result["recall_at_10"], 4), result["recall_at_10"] >= TARGETS["scale_recall"]))
            self.checks.append(Check(f"scale {result['passages']:,}: ask p50 ms", round(result["ask_p50_ms"], 1),
                                     result["ask_p50_ms"] <= TARGETS["scale_ask_ms"]))

    # -- output --------------------------------------------------------------------------------------------

    def results(self, began: float, machine_before: dict) -> dict[str, object]:
        after = machine()
        return {
            "machine": {**machine_before, "load_average_after": after["load_average"]},
            "run": {"rounds": self.args.rounds, "questions": self.args.questions, "quick": self.args.quick,
                    "sections": self.args.sections, "peers": self.args.peers, "seconds": time.perf_counter() - began,
                    "encoder_backend": self.ours.backend, "backend_note": self.ours.backend_note},
            "ratios": [r.to_dict() for r in self.ratios],
            "checks": [c.to_dict() for c in self.checks],
            "skipped": self.skipped,
            "measures": self.measures,
        }


def _load(settings):
    from embeddings import store

    return store.load(Path(settings.index_dir), settings.model_name)


def table(results: dict) -> str:
    """The ratios and checks as a markdown table (ratios: min / median / max over the rounds)."""
    lines = ["| target | limit | min | median | max | met |", "|---|---:|---:|---:|---:|:---:|"]
    for r in results["ratios"]:
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        lines.append(f"| {r['name']} | ≤ {r['target']:g} | {r['min']:.2f} | {r['median']:.2f} | {r['max']:.2f} | {met} |")
    for c in results["checks"]:
        lines.append(f"| {c['name']} | | | {c['value']} | | {'yes' if c['met'] else '**no**'} |")
    m = results["machine"]
    lines.append("")
    lines.append(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_bytes'] / 2**30:.0f} GiB; load average "
                 f"{m['load_average'][0]:.1f} before, {m['load_average_after'][0]:.1f} after; "
                 f"encoder backend {results['run']['encoder_backend']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    before = machine()
    work = args.work or Path(tempfile.mkdtemp(prefix="verbatim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, work)
    try:
        sections = args.sections
        if "query" in sections:
            from assistant import Assistant

            bench.say("query: bundled corpus")
            folder = bench.bundled_index()
            settings = bench.settings.replace(index_dir=folder)
            bench.query("bundled corpus", Assistant(settings, _load(settings), bench.ours), bench.bundled_questions())
            if not args.quick:
                bench.say("query: SQuAD v1.1")
                bench.query("SQuAD v1.1", bench.squad_bot(), bench.squad_questions(args.questions))
        if "index" in sections:
            from embeddings.indexer import default_corpus

            bench.say("index: bundled corpus")
            bench.index("bundled corpus", [ROOT / default_corpus()])
            if args.index_articles:
                from eval import squad

                articles, _ = squad.load(args.squad)
                squad.write_articles(articles[: args.index_articles], work / "squad-docs")
                bench.say(f"index: {args.index_articles} SQuAD articles")
                bench.index(f"{args.index_articles} SQuAD articles", [work / "squad-docs"])
        steps = (
            ("reindex", "reindex: unchanged bundled corpus", bench.reindex),
            ("startup", "start-up", bench.startup),
            ("web", "web chat start", bench.web),
            ("memory", "memory: web chat over the SQuAD index", bench.memory),
            ("scale", "scale", lambda: bench.scale(bench.squad_bot())),
        )
        for name, message, step in steps:
            if name in sections:
                bench.say(message)
                step()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results = bench.results(began, before)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=float) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
