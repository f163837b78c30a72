"""The web chat's /ask API as a script calls it: gradio_client against `python app.py`, with staff sign-in on.

`running_app` starts the real server for this module and for the browser test.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eval.bench_startup import child_env, free_port, stop, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 300   # importing gradio and torch, loading the model, building the index from corpus/

QUOTE_KEYS = {"text", "doc_id", "source", "title", "section", "start", "end", "score"}


@contextlib.contextmanager
def running_app(work: Path, **env_extra: str) -> Iterator[str]:
    """`python app.py` on a free port over the fresh index folder work/index (so it builds from corpus/);
    yields its URL once it answers, and stops it afterwards."""
    port = free_port()
    env = child_env(GRADIO_SERVER_PORT=str(port), VERBATIM_INDEX=str(work / "index"), **env_extra)
    log_path = work / "server.log"
    url = f"http://127.0.0.1:{port}/"
    began = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_until_answering(proc, url, log_path, began, START_SECONDS, 1.0)
            except RuntimeError as exc:
                pytest.fail(str(exc))
            print(f"app.py serving after {time.perf_counter() - began:.1f} s (index built from corpus/)")
            yield url
        finally:
            stop(proc)


@pytest.fixture(scope="module")
def api_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served app's work folder: its index is api_work/index."""
    return tmp_path_factory.mktemp("api-app")


@pytest.fixture(scope="module")
def signed_in_app(api_work: Path) -> Iterator[str]:
    with running_app(api_work, VERBATIM_USERS="alice:wonder land,bob:pw2") as url:
        yield url


@pytest.fixture(scope="module")
def client(signed_in_app: str):
    from gradio_client import Client

    return Client(signed_in_app, auth=("alice", "wonder land"), verbose=False)


def check_contract(answer: dict, question: str, doc_ids: list[str] | None = None) -> None:
    keys = {"question", "answer", "abstained", "confidence", "quotes", "passages"}
    assert set(answer) == (keys | {"doc_ids"} if doc_ids else keys)
    assert answer.get("doc_ids") == doc_ids
    assert answer["question"] == question
    assert isinstance(answer["abstained"], bool) and 0.0 <= answer["confidence"] <= 1.0
    for span in answer["quotes"] + answer["passages"]:
        assert set(span) - {"page"} == QUOTE_KEYS and 0 <= span["start"] < span["end"]
        assert span["end"] - span["start"] == len(span["text"])
    if answer["abstained"]:
        assert answer["quotes"] == [] and answer["passages"] and "The documents don't say" in answer["answer"]
    else:
        assert answer["answer"] == "\n\n".join(q["text"] for q in answer["quotes"])


def test_ask_returns_the_answer_json(client):
    answer = client.predict("How is SoFi USD backed?", [], api_name="/ask")
    check_contract(answer, "How is SoFi USD backed?")
    assert not answer["abstained"]
    assert any("backed" in q["text"] and q["source"].endswith("000_14d5362b27054530.txt") for q in answer["quotes"])


def test_history_as_a_list_or_json_text(client):
    history = ["What does the notice say about RWA tokenization?"]
    as_list = client.predict("Who supervises it?", history, api_name="/ask")
    as_json = client.predict("Who supervises it?", '["What does the notice say about RWA tokenization?"]',
                             api_name="/ask")
    check_contract(as_list, "Who supervises it?")
    assert as_list == as_json
    # the page the chat is on may be named (the previous answer's first quote); one document here, so the same
    before = client.predict("What does the notice say about RWA tokenization?", [], api_name="/ask")
    on_page = client.predict("Who supervises it?", history, None, before["quotes"][0]["doc_id"], api_name="/ask")
    assert on_page == as_list


def test_an_unanswerable_question_abstains_with_nearest_passages(client):
    answer = client.predict("What is the cafeteria menu on Fridays?", [], api_name="/ask")
    check_contract(answer, "What is the cafeteria menu on Fridays?")
    assert answer["abstained"]


def test_bad_input_gets_the_reason(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="history must be"):
        client.predict("How is SoFi USD backed?", "not json", api_name="/ask")
    with pytest.raises(AppError, match="chat_document must be a document id"):
        client.predict("How is SoFi USD backed?", [], None, ["a", "b"], api_name="/ask")
    with pytest.raises(AppError) as error:
        client.predict("   ", [], api_name="/ask")
    assert str(error.value).strip()


def test_the_endpoint_is_named_ask_and_the_ui_handlers_are_private(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_sign_in_is_required(signed_in_app: str):
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(signed_in_app, verbose=False)
    with pytest.raises(Exception):
        Client(signed_in_app, auth=("alice", "wrong"), verbose=False)
    assert httpx.post(signed_in_app + "login", data={"username": "bob", "password": "pw2"}).status_code == 200


def indexed(work: Path) -> dict[str, str]:
    """source -> doc_id of what the served index holds, read from its manifest as `verbatim docs` does."""
    import json

    manifest = json.loads((work / "index" / "manifest.json").read_text(encoding="utf-8"))
    return {d["source"]: d["doc_id"] for d in manifest["documents"]}


def test_ask_within_chosen_documents(client, api_work):
    (source, doc_id), = [(s, d) for s, d in indexed(api_work).items() if s.endswith("000_14d5362b27054530.txt")]
    question = "How is SoFi USD backed?"
    within = client.predict(question, [], [doc_id], api_name="/ask")
    check_contract(within, question, [doc_id])
    assert {q["doc_id"] for q in within["quotes"] + within["passages"]} == {doc_id}
    by_path = client.predict(question, [], f'["{source}"]', api_name="/ask")   # an indexed path, as JSON
    assert by_path["doc_ids"] == [doc_id] and by_path["quotes"] == within["quotes"]
    check_contract(client.predict(question, [], None, api_name="/ask"), question)   # None: every document


def test_an_unknown_document_is_refused_with_the_fix(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="no indexed document has the id or path 'nope'"):
        client.predict("How is SoFi USD backed?", [], ["nope"], api_name="/ask")
    with pytest.raises(AppError, match="doc_ids must be"):
        client.predict("How is SoFi USD backed?", [], "[oops", api_name="/ask")


BADGE = ("<html><head><title>Badge office move</title></head><body><h1>Badge office move</h1>"
         "<p>The new badge office opens on the third floor of the Quokka building on Monday.</p></body></html>")


def test_an_index_saved_by_the_cli_is_answered_within_seconds(client, api_work, tmp_path):
    """`verbatim index other.html` in a terminal while the server runs: within seconds the server answers from it
    (asked within that document, so an old index would refuse), and no question fails during the swap."""
    other = tmp_path / "other.html"
    other.write_text(BADGE, encoding="utf-8")
    question = "Where does the new badge office open?"
    failures: list[str] = []
    asked = [0]
    done = threading.Event()

    def keep_asking() -> None:
        from gradio_client import Client

        asker = Client(client.src, auth=("bob", "pw2"), verbose=False)
        while not done.is_set():
            try:
                check_contract(asker.predict(question, [], api_name="/ask"), question)
                asked[0] += 1
            except Exception as e:   # any failure at all during the swap is what this test looks for
                failures.append(repr(e))

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        cli = subprocess.run([sys.executable, "-m", "assistant.cli", "--index", str(api_work / "index"), "index",
                              str(other)], cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
        assert cli.returncode == 0, cli.stderr
        saved = time.monotonic()
        answer = None
        while time.monotonic() - saved < 10:
            try:
                answer = client.predict(question, [], [str(other)], api_name="/ask")
                break
            except Exception:   # "no indexed document has the id or path …": not swapped in yet
                time.sleep(0.25)
        took = time.monotonic() - saved
        time.sleep(1)   # a few more questions after the swap
    finally:
        done.set()
        asker.join(timeout=120)
    assert answer is not None, "the server did not pick up the index the CLI saved within 10 s"
    print(f"swapped in {took:.1f} s after the CLI saved; {asked[0]} questions answered meanwhile")
    check_contract(answer, question, [indexed(api_work)[str(other)]])
    assert any(s["source"] == str(other) for s in answer["quotes"] or answer["passages"][:1])
    assert not failures, failures[:3]
    assert asked[0] > 0


def test_the_page_wiring(bot, settings):
    """One progress display per event, on the component it concerns; the page polls for a newer index."""
    import app

    demo = app.build_app(bot, settings)
    config = demo.get_config_file()
    ids = {c["props"].get("elem_id"): c["id"] for c in config["components"] if c["props"].get("elem_id")}
    by_target = {(t[0], t[1]): d for d in config["dependencies"] for t in d["targets"]}
    upload = by_target[(ids["vb-upload"], "upload")]
    assert upload["show_progress"] == "full" and upload["show_progress_on"] == [ids["vb-upload"]]
    for trigger in [(ids["vb-question"], "submit"), (ids["vb-ask"], "click"), (ids["vb-chat"], "example_select")]:
        assert by_target[trigger]["show_progress_on"] == [ids["vb-chat"]]
        assert ids["vb-within"] in by_target[trigger]["inputs"]   # asked within the chosen documents
    timer = next(c for c in config["components"] if c["type"] == "timer")
    tick = by_target[(timer["id"], "tick")]
    assert timer["props"]["value"] <= 3 and tick["show_progress"] == "hidden"
    assert {ids["vb-library"], ids["vb-within"], ids["vb-pick"], ids["vb-stats"]} <= set(tick["outputs"])
    remove = by_target[(ids["vb-remove"], "click")]
    assert ids["vb-library"] not in remove["outputs"]   # the first click only asks for confirmation
    assert ids["vb-library"] in by_target[(ids["vb-remove-yes"], "click")]["outputs"]
