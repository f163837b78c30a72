"""The eval's outputs: a markdown table (settings side by side), metrics.json, report.md and PNG plots.

Numbers are computed by `eval.metrics`; this module only lays them out.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.runner import Run

FORMAT_VERSION = 1
PLOTS = {"tradeoff.png": "abstention trade-off", "hit_at_k.png": "hit@k and recall@k by k", "latency.png": "latency per question"}

Summary = dict[str, Any]


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _rows(summaries: Sequence[Summary]) -> list[tuple[str, Callable[[Summary], str]]]:
    ks = sorted({1, 3, 5} | {len(s["recall_at_k"]) for s in summaries})
    rows: list[tuple[str, Callable[[Summary], str]]] = [
        ("questions (answerable / unanswerable / follow-ups)",
         lambda s: f"{s['questions']} ({s['answerable']} / {s['unanswerable']} / {s['followups']})"),
        ("hit@1", lambda s: _num(s["hit_at_1"])),
        ("hit@shown", lambda s: _num(s["hit_at_shown"])),
        ("EM / F1 (first quote)", lambda s: f"{_num(s['em'])} / {_num(s['f1'])}"),
    ]
    rows += [(f"retrieval recall@{k}", lambda s, k=k: _num(s["recall_at_k"].get(str(k)))) for k in ks]
    rows += [
        ("retrieval MRR", lambda s: _num(s["mrr"])),
        ("abstention recall", lambda s: _num(s["abstention_recall"])),
        ("false-abstention rate", lambda s: _num(s["false_abstention_rate"])),
        ("hit@1 first questions / follow-ups", lambda s: f"{_num(s['hit_at_1_first'])} / {_num(s['hit_at_1_followup'])}"),
        ("verbatim share (failures)", lambda s: f"{_num(s['verbatim_share'], 4)} ({s['verbatim_failures']})"),
        ("latency p50 / p95 (ms)", lambda s: f"{_num(s['latency_p50_ms'], 1)} / {_num(s['latency_p95_ms'], 1)}"),
        ("threshold pick", _pick),
    ]
    return rows


def _pick(summary: Summary) -> str:
    point = summary["threshold_pick"]["point"]
    if point is None:
        return "none qualifies"
    return f"{point['threshold']:.3f} (hit@1 {_num(point['hit_at_1'])})"


def table(labels: Sequence[str], summaries: Sequence[Summary]) -> str:
    """A markdown table: one row per metric, one column per run."""
    lines = ["| metric | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    lines += [f"| {name} | " + " | ".join(cell(s) for s in summaries) + " |" for name, cell in _rows(summaries)]
    return "\n".join(lines)


def pick_sentence(run: Run, summary: Summary) -> str:
    """One report line: the threshold pick of a run, or that none qualifies."""
    label = run.label
    target = summary["threshold_pick"]
    want = f"abstention recall ≥ {target['min_abstention_recall']:g} with false-abstention ≤ {target['max_false_abstention_rate']:g}"
    point = target["point"]
    below = run.abstain_below
    # answers the assistant withheld carry no quote to restore: the sweep can only raise the threshold
    hint = f" Answers under abstain_below={below:g} were withheld already; `--set abstain_below=0` sweeps the whole range." if below > 0 else ""
    if point is None:
        return f"- {label}: no confidence threshold gives {want}.{hint}"
    return (f"- {label}: lowest threshold giving {want}: **{point['threshold']:.4f}** "
            f"(abstention recall {_num(point['abstention_recall'])}, false-abstention {_num(point['false_abstention_rate'])}, "
            f"hit@1 {_num(point['hit_at_1'])}; current abstain_below {below:g}).{hint}")


def settings_dict(run: Run) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(run.settings).items()}


def write(out_dir: Path, dataset: str, source: str, runs: Sequence[Run], summaries: Sequence[Summary]) -> list[Path]:
    """Write report.md, metrics.json and the plots into `out_dir` (created); returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = [r.label for r in runs]
    metrics = {
        "version": FORMAT_VERSION,
        "dataset": dataset,
        "source": source,
        "count": len(runs[0].outcomes) if runs else 0,
        "runs": [{"label": r.label, "settings": settings_dict(r), "metrics": s} for r, s in zip(runs, summaries)],
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _plot(out_dir, runs, summaries)
    report = [
        f"# Eval: {dataset} ({metrics['count']} questions)",
        "",
        f"Source: `{source}`.",
        "",
        table(labels, summaries),
        "",
        "## Abstention threshold",
        "",
        *(pick_sentence(r, s) for r, s in zip(runs, summaries)),
        "",
        "## Plots",
        "",
        *(f"![{title}]({name})" for name, title in PLOTS.items()),
        "",
    ]
    (out_dir / "report.md").write_text("\n".join(report), encoding="utf-8")
    return [out_dir / "report.md", out_dir / "metrics.json", *(out_dir / name for name in PLOTS)]


def _plot(out_dir: Path, runs: Sequence[Run], summaries: Sequence[Summary]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI machines
    import matplotlib.pyplot as plt

    colours = [f"C{i}" for i in range(len(runs))]

    fig, (roc, sweep) = plt.subplots(1, 2, figsize=(11, 4.2))
    for run, summary, colour in zip(runs, summaries, colours):
        curve = summary["tradeoff"]
        ts = [p["threshold"] for p in curve]
        if any(p["abstention_recall"] is not None for p in curve):
            roc.plot([p["false_abstention_rate"] for p in curve], [p["abstention_recall"] for p in curve],
                     color=colour, drawstyle="steps-post", label=run.label)
        for key, style, what in (("hit_at_1", "-", "hit@1"), ("abstention_recall", "--", "abstention recall"),
                                 ("false_abstention_rate", ":", "false-abstention rate")):
            if any(p[key] is not None for p in curve):
                sweep.plot(ts, [p[key] for p in curve], style, color=colour, drawstyle="steps-post",
                           label=f"{run.label}: {what}")
        point = summary["threshold_pick"]["point"]
        if point is not None:
            sweep.axvline(point["threshold"], color=colour, linewidth=0.8, alpha=0.6)
    roc.set(xlabel="false-abstention rate (answerable questions)", ylabel="abstention recall (unanswerable)",
            title="abstention trade-off", xlim=(0, 1), ylim=(0, 1.02))
    if not roc.lines:
        roc.text(0.5, 0.5, "no unanswerable questions", ha="center", va="center")
    else:
        roc.legend(fontsize=8)
    sweep.set(xlabel="confidence threshold", ylabel="share", title="withholding answers under a threshold", ylim=(0, 1.02))
    sweep.legend(fontsize=7)
    _save(fig, out_dir / "tradeoff.png", plt)

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for run, summary, colour in zip(runs, summaries, colours):
        for key, style, what in (("recall_at_k", "-o", "retrieval recall@k"), ("hit_at_k", "--s", "quote hit@k")):
            points = [(int(k), v) for k, v in summary[key].items() if v is not None]
            if points:
                ax.plot(*zip(*points), style, color=colour, label=f"{run.label}: {what}")
    ax.set(xlabel="k", ylabel="share of answerable questions", title="hit@k by k", ylim=(0, 1.02))
    ax.xaxis.get_major_locator().set_params(integer=True)
    if ax.lines:
        ax.legend(fontsize=8)
    _save(fig, out_dir / "hit_at_k.png", plt)

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for run, colour in zip(runs, colours):
        ax.hist([o.seconds * 1000 for o in run.outcomes], bins=30, color=colour, alpha=0.5, label=run.label)
    ax.set(xlabel="ms per question", ylabel="questions", title="latency")
    ax.legend(fontsize=8)
    _save(fig, out_dir / "latency.png", plt)


def _save(fig: Any, path: Path, plt: Any) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
