"""The web chat's /ask API as a script calls it: gradio_client against `python app.py`, with staff sign-in on.

`running_app` starts the real server for this module and for the browser test.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
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
def signed_in_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("api-app"), VERBATIM_USERS="alice:wonder land,bob:pw2") as url:
        yield url


@pytest.fixture(scope="module")
def client(signed_in_app: str):
    from gradio_client import Client

    return Client(signed_in_app, auth=("alice", "wonder land"), verbose=False)


def check_contract(answer: dict, question: str) -> None:
    assert set(answer) == {"question", "answer", "abstained", "confidence", "quotes", "passages"}
    assert answer["question"] == question
    assert isinstance(answer["abstained"], bool) and 0.0 <= answer["confidence"] <= 1.0
    for span in answer["quotes"] + answer["passages"]:
        assert set(span) == QUOTE_KEYS and 0 <= span["start"] < span["end"]
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


def test_an_unanswerable_question_abstains_with_nearest_passages(client):
    answer = client.predict("What is the cafeteria menu on Fridays?", [], api_name="/ask")
    check_contract(answer, "What is the cafeteria menu on Fridays?")
    assert answer["abstained"]


def test_bad_input_gets_the_reason(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="history must be"):
        client.predict("How is SoFi USD backed?", "not json", api_name="/ask")
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
