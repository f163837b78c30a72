"""Load: many staff asking through the API at once while a document is uploaded and indexed.

Clients are gradio_client sessions signed in to the real server on 127.0.0.1, one per thread, asking
until the time is up or the request budget is spent. Every answer must hold the Answer JSON contract;
questions keep being answered while the upload is indexed, from the old index until the new one is in.
"""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest
from test_app_api import check_contract

from .conftest import ALICE, SCALES, Scale, record
from .documents import prose
from .harness import Page

FACT = "Visitor permits for the Zephyr building are issued by the front desk on level two."
ZEPHYR = "Who issues visitor permits for the Zephyr building?"
QUESTIONS = [   # (question, history): answerable, a follow-up, unanswerable, and the uploaded document's fact
    ("How is SoFi USD backed?", []),
    ("Who supervises it?", ["What does the notice say about RWA tokenization?"]),
    ("What is the cafeteria menu on Fridays?", []),
    (ZEPHYR, []),
    ("Which earlier notice does it repeal?", []),
]


def _quotes_zephyr(answer: dict) -> bool:
    return any("zephyr" in q["source"] for q in answer["quotes"])


@dataclass
class Tally:
    """What the clients saw; lists are appended from many threads (append is atomic in CPython)."""

    latencies: list[float] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    zephyr: list[tuple[float, float, bool]] = field(default_factory=list)   # (sent, answered, quoted it)
    budget: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))


def _client(app_url: str, n: int, start: threading.Barrier, stop_at: list[float], tally: Tally) -> None:
    from gradio_client import Client

    try:
        client = Client(app_url, auth=ALICE, verbose=False)
    except Exception as e:   # a client that cannot even connect is an error of the run
        tally.errors.append(f"client {n} could not connect: {e!r}")
        start.wait()
        return
    start.wait()
    k = n
    while time.monotonic() < stop_at[0] and tally.budget.acquire(blocking=False):
        question, history = QUESTIONS[k % len(QUESTIONS)]
        k += 1
        sent = time.monotonic()
        try:
            answer = client.predict(question, history, api_name="/ask")
            check_contract(answer, question)
        except Exception as e:
            tally.errors.append(f"{question!r}: {e!r}"[:500])
            continue
        done = time.monotonic()
        tally.latencies.append(done - sent)
        tally.finished_at.append(done)
        if question == ZEPHYR:
            tally.zephyr.append((sent, done, _quotes_zephyr(answer)))
    client.close()


@pytest.mark.parametrize("scale", SCALES)
def test_answers_stay_valid_under_load_while_an_upload_is_indexed(signed_in_app, scale: Scale):
    from gradio_client import Client

    warm = Client(signed_in_app.url, auth=ALICE, verbose=False)
    assert not _quotes_zephyr(warm.predict(ZEPHYR, [], api_name="/ask"))   # loads the model; not known yet
    tally = Tally()
    for _ in range(scale.max_requests):
        tally.budget.release()
    start = threading.Barrier(scale.clients + 1)
    stop_at = [float("inf")]
    threads = [threading.Thread(target=_client, args=(signed_in_app.url, n, start, stop_at, tally))
               for n in range(scale.clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    stop_at[0] = began + scale.seconds

    time.sleep(scale.seconds * 0.2)   # the load is on; now a member of staff uploads a document
    page = Page(signed_in_app.url, auth=ALICE)
    upload_began = time.monotonic()
    status = page.upload([(f"zephyr_{scale.name}.txt",
                           prose(scale.upload_kb * 1000, seed=scale.seed, fact=FACT).encode())])
    upload_ended = time.monotonic()
    for t in threads:
        t.join(timeout=scale.seconds + 300)
    ended = time.monotonic()
    assert not any(t.is_alive() for t in threads), "a client hung"

    after = warm.predict(ZEPHYR, [], api_name="/ask")   # the new index is in: the fact is found
    check_contract(after, ZEPHYR)
    assert _quotes_zephyr(after) and FACT in after["answer"], after

    n = len(tally.latencies)
    during = sum(upload_began <= t <= upload_ended for t in tally.finished_at)
    q = statistics.quantiles(tally.latencies, n=20) if n >= 2 else [float("nan")] * 19
    record(f"load ({scale.name})",
           f"{scale.clients} clients for {scale.seconds:.0f} s ({ended - began:.0f} s with the upload): "
           f"{n} answers, {len(tally.errors)} errors, p50 {statistics.median(tally.latencies):.2f} s, "
           f"p95 {q[18]:.2f} s, max {max(tally.latencies):.2f} s; {during} answered while a "
           f"{scale.upload_kb} kB upload was indexed ({upload_ended - upload_began:.1f} s)")
    assert not tally.errors, tally.errors[:5]
    assert "1 added" in status and "vb-ok" in status, status
    assert n >= scale.clients   # every client got answers
    if upload_ended - upload_began < scale.seconds * 0.7:   # the upload ran inside the load window
        assert during > 0, "no question was answered while the upload was being indexed"
    # Before the upload began only the old index could answer; a question asked after it ended sees the new one.
    assert not any(quoted for sent, _, quoted in tally.zephyr if sent < upload_began)
    assert all(quoted for sent, _, quoted in tally.zephyr if sent > upload_ended)
