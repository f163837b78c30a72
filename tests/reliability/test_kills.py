"""Faults: processes killed with SIGKILL at random (seeded) moments while they index.

After every kill the index must load whole and hold every document that was fully indexed before it;
running the index command again (for the CLI) or restarting the app (for an upload) completes the rest.
A moment is drawn at random over a whole run, or over the save (when the new index is half on disk);
each kill is tallied by what the process was doing: starting (before the lock), indexing, saving, or
finished (the run had ended before the signal came).
"""
from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import SCALES, Scale, record
from .documents import prose
from .harness import App, Page, child_env, cli, holds_lock, leftovers, whole_index

RUN_SECONDS = 600   # a `verbatim index` run that must complete


def _wait_for(condition: Callable[[], bool], seconds: float, every: float = 0.002) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def _stamps(index: Path) -> dict[Path, int]:
    """Modification times of the index folder, its files and its parent: any write to the index changes one,
    however the save is done."""
    stamps = {}
    for path in (index.parent, index, *(index.iterdir() if index.is_dir() else ())):
        try:
            stamps[path] = path.stat().st_mtime_ns
        except FileNotFoundError:   # a save swapped it away just now
            stamps[path] = -1
    return stamps


def _sources(index: Path, model: str) -> dict[str, str]:
    """source -> content hash of every document in the (whole) index."""
    return {info.source: info.content_hash for info in whole_index(index, model).infos}


def _complete(index: Path, *paths: str) -> str:
    proc = cli(index, "index", *paths)
    out, err = proc.communicate(timeout=RUN_SECONDS)
    assert proc.returncode == 0, err[-3000:]
    return out


@pytest.mark.parametrize("scale", SCALES)
def test_verbatim_index_killed_at_random_moments_loses_nothing(scale: Scale, tmp_path, corpus_index_dir, settings):
    rng = random.Random(scale.seed)
    index, docs = tmp_path / "index", tmp_path / "memos"
    shutil.copytree(corpus_index_dir, index)
    docs.mkdir()

    def add_memo(k: int) -> None:
        (docs / f"memo_{k:02d}.txt").write_text(
            prose(30_000, seed=k, fact=f"Memo {k} sets the meeting room code to {1000 + k}."), encoding="utf-8")

    add_memo(0)
    before, began = _stamps(index), time.monotonic()
    first = cli(index, "index", str(docs))   # a complete run, timed: kill moments are drawn from its span
    _wait_for(lambda: _stamps(index) != before or first.poll() is not None, RUN_SECONDS)
    saving_began = time.monotonic()
    assert first.wait(timeout=RUN_SECONDS) == 0, first.communicate()[1][-3000:]
    run_seconds, save_seconds = time.monotonic() - began, time.monotonic() - saving_began
    done = _sources(index, settings.model_name)
    phases: Counter[str] = Counter()
    for k in range(1, scale.cli_kills + 1):
        add_memo(k)
        before = _stamps(index)
        proc = cli(index, "index", str(docs))
        if k == 1 or rng.random() < 1 / 3:   # during the save (the first time, as it begins)
            _wait_for(lambda: _stamps(index) != before or proc.poll() is not None, 3 * run_seconds)
            time.sleep(0 if k == 1 else rng.uniform(0, save_seconds))
        else:
            time.sleep(rng.uniform(0, run_seconds))
        phase = ("finished" if proc.poll() is not None else "saving" if _stamps(index) != before
                 else "indexing" if holds_lock(proc.pid, index.with_name("index.lock")) else "starting")
        proc.send_signal(signal.SIGKILL)   # (nothing if it has just finished)
        proc.communicate()
        phases[phase] += 1
        if k == 1:   # killed as its save began: its half-written temporary folder is left behind
            assert phase == "saving" and leftovers(index), phase

        now = _sources(index, settings.model_name)   # loads, and is whole
        assert done.items() <= now.items(), f"kill {k} ({phase}) lost {set(done) - set(now)}"
        done = now

    _complete(index, str(docs))   # the next run completes what the kills interrupted, and clears the leftovers
    final = _sources(index, settings.model_name)
    memos = {str(p): p for p in docs.iterdir()}
    assert done.items() <= final.items() and set(memos) <= set(final)
    assert leftovers(index) == []
    record(f"kills of `verbatim index` ({scale.name})",
           f"{scale.cli_kills} SIGKILLs at random moments ({', '.join(f'{n} {p}' for p, n in sorted(phases.items()))}); "
           f"the index loaded whole after each, lost nothing, and the re-run completed all {len(memos)} memos")


KILLED_COPY = """
import shutil, sys, time
from pathlib import Path
from assistant import webui

def copy_half(src, dst):   # the first half is on disk: say so, then wait to be killed
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: len(data) // 2])
    print("COPYING", flush=True)
    time.sleep(120)

shutil.copyfile = copy_half
webui.add_uploads(None, [sys.argv[1]], Path(sys.argv[2]), 10_000_000)
"""


def test_a_kill_while_an_upload_is_copied_leaves_no_truncated_document(tmp_path, index_copy, settings, encoder):
    from assistant import Assistant, webui
    from embeddings import store

    incoming = tmp_path / "incoming.txt"
    incoming.write_text(prose(20_000, seed=1, fact="The copier room is on level three."), encoding="utf-8")
    uploads = webui.uploads_dir(settings.replace(index_dir=index_copy))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_COPY, str(incoming), str(uploads)], env=child_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "COPYING"
    finally:
        proc.kill()
        proc.wait()
    assert [p.name for p in uploads.iterdir() if not p.name.startswith(".")] == []   # nothing half-there shows
    s = settings.replace(index_dir=index_copy)
    bot = Assistant(s, store.load(index_copy, s.model_name), encoder)
    assert webui.catch_up(bot, uploads) == "" and list(uploads.iterdir()) == []   # the half copy is cleared


@pytest.mark.parametrize("scale", SCALES)
def test_app_killed_while_indexing_an_upload_recovers_on_restart(scale: Scale, tmp_path, corpus_index_dir, settings):
    from gradio_client import Client

    rng = random.Random(scale.seed)
    shutil.copytree(corpus_index_dir, tmp_path / "index")
    app = App(tmp_path).start()
    app.uploads.mkdir()   # made now, so the only later change beside the index is an index save
    done = _sources(app.index, settings.model_name)
    phases: Counter[str] = Counter()
    try:
        for k in range(scale.app_kills):
            name = f"notice_{k:02d}.txt"
            data = prose(40_000, seed=100 + k, fact=f"Notice {k} moves the fire drill to door {200 + k}.").encode()
            page, result = Page(app.url), {}

            def upload() -> None:
                try:
                    result["status"] = page.upload([(name, data)])
                except Exception as e:   # the server died under it: expected
                    result["error"] = repr(e)

            before = _stamps(app.index)
            uploader = threading.Thread(target=upload)
            uploader.start()
            mode = rng.choice(["anytime", "indexing", "indexing", "saving"])
            if mode == "anytime":
                time.sleep(rng.uniform(0, 2.0))
            elif mode == "indexing":   # the copy is in the library: indexing has begun
                _wait_for(lambda: (app.uploads / name).exists() or "status" in result, 60, every=0.005)
                time.sleep(rng.uniform(0, 1.5))
            else:
                _wait_for(lambda: _stamps(app.index) != before or "status" in result, 60)
                time.sleep(rng.uniform(0, 0.05))
            phase = ("finished" if "status" in result else "saving" if _stamps(app.index) != before
                     else "indexing" if (app.uploads / name).exists() else "receiving")
            app.kill()
            uploader.join(timeout=60)
            page.close()
            phases[phase] += 1

            kept = app.uploads / name
            now = _sources(app.index, settings.model_name)   # loads, and is whole, before any restart
            assert done.items() <= now.items(), f"kill {k} ({phase}) lost {set(done) - set(now)}"
            assert not kept.exists() or kept.read_bytes() == data, "a truncated upload was kept"
            app.start()   # the restart indexes an upload the kill left out
            now = _sources(app.index, settings.model_name)
            assert done.items() <= now.items()
            if kept.exists():
                assert str(kept) in now, f"kill {k} ({phase}): the kept upload was not indexed on restart"
            assert not [p.name for p in app.uploads.iterdir() if p.name.startswith(".")], "leftovers of the upload"
            done = now
        indexed = [k for k in range(scale.app_kills) if str(app.uploads / f"notice_{k:02d}.txt") in done]
        if indexed:   # the restarted app answers from an upload a kill interrupted
            k = indexed[-1]
            answer = Client(app.url, verbose=False).predict(f"Which door does notice {k} move the fire drill to?",
                                                            [], api_name="/ask")
            assert f"door {200 + k}" in answer["answer"], answer
    finally:
        app.stop()
    record(f"kills of the app during upload ({scale.name})",
           f"{scale.app_kills} SIGKILLs at random moments ({', '.join(f'{n} {p}' for p, n in sorted(phases.items()))}); "
           f"after each the index loaded whole and lost nothing, and the restart indexed every kept upload "
           f"({len(indexed)} of {scale.app_kills})")
