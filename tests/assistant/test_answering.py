"""The answering side end to end: real model, real FAISS and BM25, the bundled corpus."""
from __future__ import annotations

import json

import pytest

from assistant import QuestionError
from assistant.answer import ABSTAIN_TEXT, reading
from assistant.chat import ChatSession

QUESTIONS = [
    "How is SoFi USD backed?",
    "Can insurers cover virtual currency?",
    "Which departments issued the notice?",
    "When did SoFi pause its crypto services?",
    "How many members does SoFi have?",
    "What happens to existing crypto mining projects?",
    "Who is SoFi's CEO?",
]


def _verbatim(bot, answer) -> None:
    for span in (*answer.quotes, *answer.passages):
        assert bot.document(span.doc_id).text[span.start:span.end] == span.text


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_quote_and_passage_is_verbatim_at_its_offsets(bot, question):
    answer = bot.ask(question)
    _verbatim(bot, answer)
    assert answer.passages and len(answer.quotes) <= bot.settings.max_quotes
    for quote in answer.quotes:
        assert not quote.text.rstrip().endswith("?") and len(quote.text.split()) >= 3


@pytest.mark.parametrize("question, expected", [
    ("How is SoFi USD backed?", "backed"),
    ("Can insurers cover virtual currency?", "insurance"),
    ("What happens to existing crypto mining projects?", "closure of existing virtual currency mining projects"),
    ("Who is SoFi's CEO?", "Anthony Noto"),
])
def test_answers_quote_the_sentence_that_answers(bot, question, expected):
    answer = bot.ask(question)
    assert not answer.abstained
    assert any(expected.lower() in q.text.lower() for q in answer.quotes), [q.text for q in answer.quotes]
    assert answer.text == "\n\n".join(reading(q.text) for q in answer.quotes)


@pytest.mark.parametrize("question", [
    "What is the capital of Australia?",
    "How do I bake sourdough bread at home?",
    "Which football club won the 1998 World Cup final?",
])
def test_off_corpus_questions_abstain_but_list_passages(bot, question):
    answer = bot.ask(question)
    assert answer.abstained and answer.quotes == ()
    assert answer.text == ABSTAIN_TEXT
    assert answer.passages, "the nearest passages are still listed"
    assert answer.confidence < bot.abstain_below


def test_followup_is_resolved_against_history(bot):
    answer = bot.ask("Who supervises it?", history=["What does the notice say about overseas RWA tokenization by domestic entities?"])
    assert not answer.abstained
    assert any("China Securities Regulatory Commission" in q.text for q in answer.quotes)
    session = ChatSession(bot)
    first = session.ask("What does the notice say about virtual currency mining?")
    second = session.ask("Who controls it?")
    assert session.history == ["What does the notice say about virtual currency mining?", "Who controls it?"]
    assert any("National Development and Reform Commission" in q.text for q in second.quotes), [q.text for q in second.quotes]
    assert first.quotes


def test_answer_json_contract(bot):
    data = bot.ask("How is SoFi USD backed?").to_dict(id="q1")
    assert list(data) == ["id", "question", "answer", "abstained", "confidence", "quotes", "passages"]
    assert data["id"] == "q1" and isinstance(data["confidence"], float) and 0 <= data["confidence"] <= 1
    assert data["abstained"] is False and data["answer"] == "\n\n".join(q["text"] for q in data["quotes"])
    for q in data["quotes"] + data["passages"]:
        assert set(q) == {"text", "doc_id", "source", "title", "section", "start", "end", "score"}
        assert q["source"].endswith("000_14d5362b27054530.txt") and q["title"].startswith("SoFi Launches")
    json.dumps(data)   # serialisable as is
    scores = [q["score"] for q in data["quotes"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 10_000, "?!?!...", None])
def test_bad_questions_get_a_clear_message(bot, bad):
    with pytest.raises(QuestionError) as err:
        bot.ask(bad)
    assert len(str(err.value)) > 20


@pytest.mark.parametrize("history, says", [
    (["What is SoFi USD?"] * 101, "at most 100"),
    (["x" * 10_000], "earlier question of the chat is 10,000 characters"),
])
def test_a_bad_chat_history_gets_a_clear_message(bot, history, says):
    with pytest.raises(QuestionError, match=says):
        bot.ask("Who supervises it?", history=history)


@pytest.mark.parametrize("question", ["¿Cómo está respaldado SoFi USD?", "中国人民银行禁止了什么？", "sofi", "a b c d e f g"])
def test_odd_questions_get_a_sane_answer(bot, question):
    answer = bot.ask(question)
    _verbatim(bot, answer)
    assert 0.0 <= answer.confidence <= 1.0


@pytest.mark.parametrize("question", [*QUESTIONS,
    "What is SoFi USD meant to be used for besides payments?",
    "What does SoFi's bank charter mean for users compared with exchanges?",
    "What does blockchain bring to SoFi's payments?",
])
def test_a_quote_never_opens_on_a_sentence_that_points_back_at_a_missing_one(bot, question):
    """"It is designed..." or "This means..." is quoted with the sentence it points back to (same section)."""
    from assistant.ranking import points_back

    index = bot.index
    answer = bot.ask(question)
    assert answer.quotes, f"no answer to {question!r}"
    for quote in answer.quotes:
        rows = [s for s in range(len(index.s_doc)) if index.sentence(s).doc_id == quote.doc_id
                and index.sentence(s).start == quote.start]
        assert rows, "a quote starts at a sentence"
        first = rows[0]
        before_in_section = (first > 0 and index.s_doc[first - 1] == index.s_doc[first]
                             and index.p_section[index.s_host[first - 1]] == index.p_section[index.s_host[first]])
        assert not (points_back(quote.text) and before_in_section), quote.text


def test_adjacent_sentences_make_one_quote_in_whatever_order_they_are_chosen(bot):
    from assistant.answerer import _quotes, _runs_on

    index = bot.index
    row = next(r for r in range(10, len(index.s_doc) - 3)
               if _runs_on(index, r) and _runs_on(index, r + 1)
               and not any(index.sentence(r + i).text.endswith(":") for i in range(3)))
    scores = {row: 0.9, row + 2: 0.6, row + 1: 0.3}
    quotes = _quotes(index, [row, row + 2, row + 1], scores)   # the middle one joined last, as a context row is
    assert len(quotes) == 1 and quotes[0].start == index.sentence(row).start
    assert quotes[0].end == index.sentence(row + 2).end and quotes[0].score == 0.9
    apart = _quotes(index, [row + 3, row], {row: 0.4, row + 3: 0.8})
    assert [q.start for q in apart] == [index.sentence(row + 3).start, index.sentence(row).start]   # best first


def test_a_quote_never_runs_across_a_heading_or_left_out_text(bot):
    from assistant.answerer import _quotes, _runs_on

    index = bot.index
    texts = {d.doc_id: d.text for d in index.documents}
    row = next(r for r in range(len(index.s_doc) - 1)
               if index.s_doc[r] == index.s_doc[r + 1] and not _runs_on(index, r))
    doc = index.documents[int(index.s_doc[row])]
    between = doc.text[int(index.s_end[row]):int(index.s_start[row + 1])]
    crosses = index.p_section[index.s_host[row]] != index.p_section[index.s_host[row + 1]]
    assert between.strip() or crosses   # a heading, or text the index leaves out, lies between them
    quotes = _quotes(index, [row, row + 1], {row: 0.9, row + 1: 0.8})
    assert len(quotes) == 2 and all(texts[q.doc_id][q.start:q.end] == q.text for q in quotes)


def test_a_long_chat_keeps_answering(bot):
    session = ChatSession(bot)
    session.turns = [("What does the notice say about virtual currency mining?", None)] * 150
    assert len(session.history) == 100
    answer = session.ask("Who controls it?")   # answered, not refused for the chat's length
    assert answer.question == "Who controls it?" and len(session.turns) == 151


def test_asking_within_one_document_quotes_only_it(tmp_path, settings, encoder, corpus_index_dir):
    import shutil

    from assistant import Assistant
    from embeddings.indexer import Indexer

    folder = tmp_path / "index"
    shutil.copytree(corpus_index_dir, folder)
    extra = tmp_path / "parking.txt"
    extra.write_text("Parking policy\n\nStaff may park in the north garage on weekdays. Visitors park on level 2.\n",
                     encoding="utf-8")
    s = settings.replace(index_dir=folder)
    Indexer(s, encoder).index([extra])
    bot = Assistant.open(s)
    parking = next(d for d in bot.documents() if d.source.endswith("parking.txt"))
    answer = bot.ask("Where may staff park?", doc_ids=[parking.doc_id])
    assert answer.doc_ids == (parking.doc_id,) and answer.to_dict()["doc_ids"] == [parking.doc_id]
    assert {p.doc_id for p in answer.passages} == {parking.doc_id}
    assert all(q.doc_id == parking.doc_id for q in answer.quotes)
    other = next(d for d in bot.documents() if d.doc_id != parking.doc_id)
    assert {p.doc_id for p in bot.ask("How is SoFi USD backed?", doc_ids=[other.source]).passages} == {other.doc_id}
    assert "doc_ids" not in bot.ask("How is SoFi USD backed?").to_dict()
    with pytest.raises(QuestionError, match="verbatim docs"):
        bot.ask("Where may staff park?", doc_ids=["no-such-doc"])


def test_refresh_swaps_in_an_index_another_process_saved(tmp_path, settings, encoder, corpus_index_dir):
    import shutil
    import subprocess
    import sys

    from assistant import Assistant

    folder = tmp_path / "index"
    shutil.copytree(corpus_index_dir, folder)
    bot = Assistant.open(settings.replace(index_dir=folder))
    assert bot.refresh() is False
    extra = tmp_path / "parking.txt"
    extra.write_text("Parking policy\n\nStaff may park in the north garage on weekdays.\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "assistant.cli", "--index", str(folder), "index", str(extra)], check=True,
                   capture_output=True)
    assert len(bot.documents()) == 1
    assert bot.refresh() is True
    assert len(bot.documents()) == 2 and bot.refresh() is False
    assert bot.ask("Where may staff park?").quotes[0].text.startswith("Staff may park")


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_quote_calibration_labels_is_the_one_the_user_is_shown(bot, question):
    """`quote_of` (what the reader's calibration checks for the answer) lies within the first quote `ask`
    shows when that sentence scores best, and holds the neighbours joined to it."""
    import numpy as np

    from assistant.answerer import quote_of

    ranker_only = bot.with_settings(bot.settings.replace(reader=False, abstain_below=0.0))
    _, scored = ranker_only.scored(question)
    best = int(np.argmax(scored.prob))
    labelled, shown = quote_of(ranker_only.index, scored, best), ranker_only.ask(question).quotes[0]
    row = int(scored.rows[best])
    assert labelled.doc_id == shown.doc_id and shown.start <= labelled.start and labelled.end <= shown.end
    assert labelled.start <= ranker_only.index.sentence(row).start < ranker_only.index.sentence(row).end <= labelled.end
    assert labelled.text == bot.document(labelled.doc_id).text[labelled.start:labelled.end]


def test_the_labelled_quote_joins_what_points_back_and_what_the_ranker_rates_half_as_well(bot):
    import numpy as np

    from assistant.answerer import Scored, _runs_on, quote_of
    from assistant.ranking import FEATURES, points_back

    index = bot.index

    def scored(rows: list[int], prob: list[float]) -> Scored:
        return Scored(np.array(rows), [index.sentence(r).text for r in rows], np.zeros((len(rows), len(FEATURES))),
                      np.array(prob))

    back = next(r for r in range(1, len(index.s_doc)) if points_back(index.sentence(r).text) and _runs_on(index, r - 1))
    assert quote_of(index, scored([back], [0.9]), 0).start == index.sentence(back - 1).start
    row = next(r for r in range(len(index.s_doc) - 1) if _runs_on(index, r) and not points_back(index.sentence(r).text)
               and not points_back(index.sentence(r + 1).text) and not index.sentence(r).text.endswith(":"))
    assert quote_of(index, scored([row, row + 1], [0.8, 0.5]), 0).end == index.sentence(row + 1).end
    alone = quote_of(index, scored([row, row + 1], [0.8, 0.3]), 0)
    assert (alone.start, alone.end) == (index.sentence(row).start, index.sentence(row).end)
