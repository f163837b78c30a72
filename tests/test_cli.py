"""The `verbatim` command as a user runs it, in a fresh working folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT
from pdfs import make_pdf

NOTE = "# Canteen\n\nThe canteen serves lunch from noon until two.\n"
PASSWORDS = ("Passwords must be at least twelve characters long and must be changed again every night by the staff "
             "member who holds the account, without exception.")


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
    assert "(note.md, 1 passage)" in run(work, "remove", "note.md").stdout
    assert len(json.loads(run(work, "docs", "--json").stdout)) == 1


def test_index_option_works_before_and_after_the_command(tmp_path):
    (tmp_path / "note.md").write_text(NOTE, encoding="utf-8")
    index = str(tmp_path / "elsewhere")
    assert "1 added" in run(tmp_path, "index", "--index", index, "note.md").stdout
    assert "note.md" in run(tmp_path, "docs", "--index", index).stdout
    assert "noon until two" in run(tmp_path, "ask", "--index", index, "When is lunch served?").stdout
    assert "noon until two" in run(tmp_path, "--index", index, "ask", "When is lunch served?").stdout
    assert not (tmp_path / ".verbatim").exists()


def test_missing_index_away_from_the_checkout_says_where_and_how_and_builds_nothing(tmp_path):
    folder = (tmp_path / ".verbatim").resolve()
    out = run(tmp_path, "docs").stdout
    assert f"No index at {folder}" in out and "verbatim index PATH" in out
    proc = run(tmp_path, "ask", "How is SoFi USD backed?", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    for hint in (f"no index at {folder}", "verbatim index PATH", "--index", "VERBATIM_INDEX"):
        assert hint in proc.stderr
    proc = run(tmp_path, "remove", "policy.pdf", check=False)
    assert proc.returncode == 2 and f"no index at {folder}" in proc.stderr
    assert list(tmp_path.iterdir()) == []   # no index, no lock file


def test_quick_start_in_a_folder_with_corpus_builds_it_and_says_so(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    proc = run(tmp_path, "ask", "How is SoFi USD backed?")
    assert "building it from corpus/" in proc.stderr and "SoFi" in proc.stdout
    assert (tmp_path / ".verbatim" / "manifest.json").is_file()


def test_chat_help_lists_the_commands_instead_of_answering(workdir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "chat"], cwd=workdir, env=env, text=True,
                          input="/help\n/quit\n\n", capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for command in ("/help", "/clear", "empty line"):
        assert command in proc.stdout
    assert "unknown command /quit" in proc.stdout
    assert "confidence" not in proc.stdout and "The documents don't say" not in proc.stdout   # nothing was asked


def test_output_into_a_closed_pipe_ends_quietly(workdir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    # `true` exits without reading, long before Python has started: every write meets a closed pipe
    line = f"{sys.executable} -m assistant.cli docs | true; exit ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", line], cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""


def test_bad_setting_names_its_type_in_plain_english(tmp_path):
    proc = run(tmp_path, "docs", env_extra={"VERBATIM_TOP_K": "many"}, check=False)
    assert proc.returncode == 2 and "VERBATIM_TOP_K='many' is not a valid int" in proc.stderr
    assert "a int" not in proc.stderr


def _policy_pdf(path) -> None:
    """Two narrow pages with a running header and a page footer; the passwords rule wraps over three lines."""
    pages = [[(1, "Acme IT Security Policy"), (1, "1. Introduction"),
              (0, "This policy applies to every employee, contractor and temporary worker of Acme."),
              (1, "2. Visitors"), (0, "Visitors sign in at reception and wear a badge at all times.")],
             [(2, "Passwords"), (0, PASSWORDS)]]
    path.write_bytes(make_pdf(pages, header=("Acme IT Security Policy",), footer=True, width=300))


def test_pdf_answer_is_cited_by_page_and_reads_as_one_sentence(tmp_path):
    _policy_pdf(tmp_path / "policy.pdf")
    index = str(tmp_path / "idx")
    run(tmp_path, "index", "--index", index, "policy.pdf")
    question = "How long must a password be?"
    # This tests the citation, not the scoring: the ranker alone, quoting its best whatever the calibration says.
    always = {"VERBATIM_ABSTAIN_BELOW": "0", "VERBATIM_READER": "off"}
    out = run(tmp_path, "ask", "--index", index, question, env_extra=always).stdout
    assert f"[1] “{PASSWORDS}”" in out   # the line wraps joined, no header or heading glued on
    assert "Acme IT Security Policy › Passwords (policy.pdf, p. 2, score" in out and ", characters " not in out
    data = json.loads(run(tmp_path, "ask", "--index", index, "--json", question, env_extra=always).stdout)
    quote = data["quotes"][0]
    assert quote["page"] == 2 and quote["title"] == "Acme IT Security Policy" and quote["section"] == "Passwords"
    assert " ".join(quote["text"].split()) == PASSWORDS and "\n" in quote["text"]   # exact document text
    assert data["answer"].startswith(PASSWORDS)
    assert all(p["page"] in (1, 2) for p in data["passages"])


def test_ask_within_one_document_with_doc(tmp_path):
    (tmp_path / "canteen.md").write_text(NOTE, encoding="utf-8")
    (tmp_path / "parking.md").write_text("# Parking\n\nStaff park in the north garage on weekdays.\n", encoding="utf-8")
    run(tmp_path, "--index", "idx", "index", "canteen.md", "parking.md")
    docs = {d["source"]: d["doc_id"] for d in json.loads(run(tmp_path, "--index", "idx", "docs", "--json").stdout)}
    out = json.loads(run(tmp_path, "ask", "--index", "idx", "--json", "--doc", docs["canteen.md"],
                         "When does the canteen serve lunch?").stdout)
    assert out["doc_ids"] == [docs["canteen.md"]]
    assert {p["source"] for p in out["passages"]} == {"canteen.md"}
    by_path = json.loads(run(tmp_path, "ask", "--index", "idx", "--json", "--doc", "parking.md",
                             "When does the canteen serve lunch?").stdout)
    assert {p["source"] for p in by_path["passages"]} == {"parking.md"}
    bad = run(tmp_path, "ask", "--index", "idx", "--doc", "nope", "Where do staff park?", check=False)
    assert bad.returncode == 2 and "verbatim docs" in bad.stderr
