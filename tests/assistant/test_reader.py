"""The reader: the committed model loads offline and reads, its switch, and its probability as the confidence."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.answerer import as_read, best_rows, is_prose, reader_logits, readings
from assistant.question import resolve
from assistant.reader import READER_DIR, Calibration, Reader, logit
from embeddings.settings import Settings


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


@pytest.fixture(scope="module")
def on(bot):
    """The bundled-corpus assistant with the reader switched on."""
    return bot.with_settings(bot.settings.replace(reader=True))


def test_the_committed_reader_loads_and_fits_the_size_budget(reader):
    assert (READER_DIR / "reader.onnx").stat().st_size <= 30 * 1024 * 1024
    logits = reader.logits("Who is SoFi's CEO?", ["SoFi's CEO, Anthony Noto, said the bank would relaunch crypto.",
                                                 "The notice was issued by thirteen departments."])
    assert logits.shape == (2,) and logits.dtype == np.float32


@pytest.mark.parametrize("question, answer, topical", [
    ("Who is SoFi's CEO?", "SoFi's chief executive, Anthony Noto, announced the relaunch on Tuesday.",
     "SoFi is a financial company that offers loans, banking and investing to its members."),
    ("When was the Eiffel Tower completed?", "The Eiffel Tower was completed in 1889 for the World's Fair.",
     "The Eiffel Tower is a wrought-iron lattice tower in Paris, named after the engineer Gustave Eiffel."),
    ("How long is the notice period for termination?",
     "Either party may terminate this Agreement on ninety (90) days' written notice to the other party.",
     "This Agreement shall be governed by the laws of the State of New York."),
])
def test_the_reader_prefers_the_sentence_that_answers_over_a_topical_one(reader, question, answer, topical):
    right, wrong = reader.logits(question, [answer, topical])
    assert right > wrong


def test_the_switch_reads_on_and_off():
    assert Settings.from_env({"VERBATIM_READER": "off"}).reader is False
    assert Settings.from_env({"VERBATIM_READER": "on"}).reader is True
    assert Settings().parse_assignment("reader=off").reader is False
    with pytest.raises(ValueError, match="on or off"):
        Settings.from_env({"VERBATIM_READER": "maybe"})


def test_reader_off_gives_the_ranker_alone(bot):
    assert Settings().reader is True   # on by default (README "The reader" says why)
    off = bot.with_settings(bot.settings.replace(reader=False))
    assert off.reader is None
    query, scored = off.scored("How is SoFi USD backed?")
    answer = off.ask("How is SoFi USD backed?")
    assert answer.confidence == pytest.approx(float(scored.prob.max()), abs=1e-6)


def test_the_confidence_is_the_readers_calibrated_probability(on):
    assert on.reader is not None and on.reader.calibration.reader > 0
    question = "How is SoFi USD backed?"
    query, scored = on.scored(question)
    order = best_rows(scored, on.settings.reader_candidates)
    expected = on.reader.calibration.probability(on.reader.logits(query.text, [scored.texts[i] for i in order]),
                                                 logit(scored.prob[order]))
    answer = on.ask(question)
    assert answer.confidence == pytest.approx(float(expected.max()), abs=1e-5)
    assert answer.confidence != pytest.approx(float(scored.prob.max()), abs=1e-4)
    best = scored.texts[order[int(np.argmax(expected))]]
    assert best in answer.quotes[0].text


def test_a_follow_up_is_read_as_the_chat_resolves_it_and_as_asked(on):
    history = ["How does the Chinese notice define virtual currency?"]
    question = "Which coins does it give as examples?"
    query, scored = on.scored(question, history)
    assert readings(query) == (query.text, question) and query.text.startswith(history[0])
    assert readings(resolve("How is SoFi USD backed?")) == ("How is SoFi USD backed?",)
    order = best_rows(scored, on.settings.reader_candidates)
    texts = [scored.texts[i] for i in order]
    mean = (on.reader.logits(query.text, texts) + on.reader.logits(question, texts)) / 2
    expected = on.reader.calibration.probability(mean, logit(scored.prob[order]))
    answer = on.ask(question, history=history)
    assert answer.confidence == pytest.approx(float(expected.max()), abs=1e-5)
    assert "Bitcoin, Ether, Tether" in answer.quotes[0].text   # read only as resolved, it abstained


def test_a_table_row_is_read_as_its_cells_in_a_line(reader):
    """The reader learnt from prose: a row is read without the " | " between its cells (and the quote stays the row)."""
    assert as_read("| Carer addition | £46.20 |") == "Carer addition, £46.20."
    assert as_read("Attendance Allowance | Higher rate | £110.40") == "Attendance Allowance, Higher rate, £110.40."
    assert as_read("You can apply online.") == "You can apply online."
    query = resolve("How much is the carer addition?")
    rows = ["| Carer addition | £46.20 |", "| Child addition | £70.40 |"]
    read = reader_logits(reader, query, rows)
    assert read == pytest.approx(reader.logits(query.text, ["Carer addition, £46.20.", "Child addition, £70.40."]))
    assert read[0] > read[1]


@pytest.mark.parametrize("question", [
    "How do I renew my passport?",
    "What is the capital of Australia?",
    "What does the notice say about carbon emissions from data centres?",
])
def test_off_corpus_questions_abstain_through_the_reader(on, question):
    answer = on.ask(question)
    assert answer.abstained, [q.text for q in answer.quotes]
    assert answer.confidence < on.abstain_below


def test_a_near_miss_scores_well_under_what_the_documents_answer(on):
    # SoFi is in the documents, its savings rate is not: the threshold (picked on the dev sets) may still let
    # such a near miss through, but the reader must rate it far below a question the documents answer
    near_miss = on.ask("What interest rate does SoFi pay on savings accounts?")
    answered = on.ask("How is SoFi USD backed?")
    assert not answered.abstained
    assert near_miss.confidence < 0.5 * answered.confidence


def test_calibration_combines_the_two_logits():
    cal = Calibration(reader=2.0, ranker=0.5, bias=-1.0)
    assert cal.probability(np.array([1.0]), np.array([2.0]))[0] == pytest.approx(1 / (1 + np.exp(-2.0)))


@pytest.mark.parametrize("text, prose", [
    ("Passwords must be changed every ninety days.", True),
    ("The fee is $10,000 per month, payable under Section 4.2(b).", True),
    ("17", False),
    ("— 3 —", False),
    ('<spec version="2.1"><item id="4"/></spec>', False),
    ("See https://a.example/x and https://b.example/y for details.", False),
    ("2019 2020 2021 1,204 1,388 1,517", False),
])
def test_is_prose(text, prose):
    assert is_prose(text) is prose
