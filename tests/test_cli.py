"""The `verbatim` command as a user runs it, in a fresh working folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT


def run(cwd, *args, env_extra=None, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("VERBATIM_INDEX", None)
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working folder holding a copy of corpus/, indexed by `verbatim index` into .verbatim/."""
    folder = tmp_path_factory.mktemp("work")
    shutil.copytree(CORPUS, folder / "corpus")
    out = run(folder, "index").stdout
    assert "1 added" in out and (folder / ".verbatim" / "manifest.json").is_file()
    return folder


def test_moved_working_folder_keeps_its_index(workdir, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(workdir, moved)
    out = run(moved, "index").stdout
    assert "0 added" in out and "1 unchanged" in out


def test_same_files_from_another_working_directory_are_not_indexed_twice(workdir):
    out = run(workdir / "corpus", "index", ".", env_extra={"VERBATIM_INDEX": str(workdir / ".verbatim")}).stdout
    assert "0 added" in out and "1 unchanged" in out
    assert len(json.loads(run(workdir, "docs", "--json").stdout)) == 1


def test_index_of_unchanged_corpus_embeds_nothing_and_docs_lists_it(workdir):
    out = run(workdir, "index").stdout
    assert "0 added" in out and "1 unchanged" in out
    docs = json.loads(run(workdir, "docs", "--json").stdout)
    assert len(docs) == 1 and docs[0]["title"].startswith("SoFi Launches") and docs[0]["passages"] > 20
    assert "indexed at" in run(workdir, "docs").stdout


def test_ask_prints_quotes_with_sources_and_json(workdir):
    out = run(workdir, "ask", "How is SoFi USD backed?").stdout
    assert "[1] “" in out and "SoFi Launches Crypto Trading" in out
    data = json.loads(run(workdir, "ask", "--json", "How is SoFi USD backed?").stdout)
    assert data["quotes"] and data["quotes"][0]["source"] == "corpus/000_14d5362b27054530.txt"
    follow = json.loads(run(workdir, "ask", "--json", "--history",
                            "What does the notice say about overseas RWA tokenization by domestic entities?",
                            "Who supervises it?").stdout)
    assert any("China Securities Regulatory Commission" in q["text"] for q in follow["quotes"])


def test_bad_question_and_missing_path_say_what_to_do_without_traceback(workdir):
    proc = run(workdir, "ask", "   ", check=False)
    assert proc.returncode == 2 and "empty" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(workdir, "index", "no/such/dir", check=False)
    assert proc.returncode == 2 and "no/such/dir" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(workdir, "remove", "nothing-like-this", check=False)
    assert proc.returncode == 2 and "verbatim docs" in proc.stderr


def test_chat_answers_follow_ups_in_the_terminal(workdir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "chat"], cwd=workdir, env=env, text=True,
                          input="What does the notice say about virtual currency mining?\nWho controls it?\n\n",
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "National Development and Reform Commission" in proc.stdout


def test_docs_and_help_never_import_torch(workdir):
    code = ("import sys; from assistant.cli import main; main(['docs']); "
            "assert 'torch' not in sys.modules, 'torch imported'; print('ok')")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr
    code = "import sys; from assistant.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\nassert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120).returncode == 0


def test_remove_then_reindex(workdir, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(workdir, work)
    (work / "note.md").write_text("# Canteen\n\nThe canteen serves lunch from noon until two.\n", encoding="utf-8")
    assert "1 added" in run(work, "index", "note.md").stdout
    assert "removed" in run(work, "remove", "note.md").stdout
    assert len(json.loads(run(work, "docs", "--json").stdout)) == 1
