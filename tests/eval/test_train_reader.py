"""Training the reader: the pairs it learns from, the CUAD split, and a short real run that exports and resumes."""
from __future__ import annotations

import json

import pytest

from eval import cuad
from eval.datasets import DatasetError, Item
from eval.train_reader import Example, cuad_pairs, document_pairs, main, make_pairs, mine, unanswerable, yes_no


def _example(question, answer, positive, paragraph, where=0, article=()):
    return Example(question, answer, positive, tuple(paragraph), tuple(article), where)


PARAGRAPH = ["The tower was finished in 1889.", "It was built by Gustave Eiffel's company.",
             "The tower is 330 metres tall.", "It is painted every seven years."]


def _paragraph_examples():
    return [
        _example("When was the tower finished?", "1889", PARAGRAPH[0], PARAGRAPH[1:]),
        _example("Whose company built the tower?", "Gustave Eiffel's company", PARAGRAPH[1],
                 [PARAGRAPH[0], *PARAGRAPH[2:]]),
        _example("How tall is the tower?", "330 metres", PARAGRAPH[2], [*PARAGRAPH[:2], PARAGRAPH[3]]),
    ]


def test_each_question_gets_its_positive_and_never_its_answer_as_a_negative():
    examples = _paragraph_examples()
    pairs = make_pairs(examples, seed=0)
    for e in examples:
        mine = [p for p in pairs if p.question == e.question]
        assert [p.sentence for p in mine if p.label == 1.0] == [e.positive]
        negatives = [p.sentence for p in mine if p.label == 0.0]
        assert negatives and all(e.answer not in s for s in negatives)


def test_a_follow_up_is_asked_after_another_question_whose_answer_becomes_a_negative():
    examples = _paragraph_examples()
    pairs = make_pairs(examples, seed=0, follow_ups=1.0)
    for e in examples:
        mine = [p for p in pairs if p.question.endswith(e.question) and p.question != e.question]
        assert mine, f"{e.question!r} was not asked as a follow-up"
        earlier = mine[0].question[: -len(e.question)].strip()
        before = next(o for o in examples if o.question == earlier)
        assert {(p.sentence, p.label) for p in mine} >= {(e.positive, 1.0), (before.positive, 0.0)}


def test_mined_negatives_are_what_the_earlier_reader_rates_highest_and_never_hold_the_answer():
    article = ["Paris hosts the tower's visitor centre.", "The tower was repainted in 2019.", "Lyon has no tower."]
    e = _example("When was the tower finished?", "1889", PARAGRAPH[0], PARAGRAPH[1:], article=article)
    liked = {"Lyon has no tower.": 5.0, "It is painted every seven years.": 3.0, "The tower was repainted in 2019.": 2.0}
    asked = []

    def score(question, sentences):
        asked.append(list(sentences))
        return [liked.get(s, 0.0) for s in sentences]

    hard = mine([e], score, keep=3)
    assert hard == [("Lyon has no tower.", "It is painted every seven years.", "The tower was repainted in 2019.")]
    assert e.positive not in asked[0] and all("1889" not in s for s in asked[0])
    other = _example("When did the bridge open?", "1890", "The bridge was opened in 1890.", ["It is red."], where=1)
    for mined in (hard[0], ("Lyon has no tower.", "The tower was repainted in 2019.")):
        pairs = make_pairs([e, other], seed=0, hard=[mined, ()])
        negatives = {p.sentence for p in pairs if p.label == 0.0 and p.question == e.question}
        assert set(mined) <= negatives and negatives - set(mined) <= set(PARAGRAPH[1:])
        assert "The tower is 330 metres tall." in negatives   # its paragraph's most word-sharing sentence stays
    assert len(negatives - set(mined)) == 2   # and one random other of its paragraph


def test_made_unanswerable_questions_swap_a_name_their_sentence_holds_for_one_their_article_lacks():
    examples = [
        _example("When was the Eiffel Tower finished?", "1889", "The Eiffel Tower was finished in 1889.",
                 ["Gustave Eiffel's company built it."], article=["Lyon has no tower."]),
        _example("Who designed the Sydney Opera House?", "Jørn Utzon", "Jørn Utzon designed the Sydney Opera House.",
                 [], where=1),
        _example("How tall is the tower?", "330 metres", "It is 330 metres tall.", [], where=2),   # no name to swap
    ]
    made = unanswerable(examples, share=1.0, seed=0)
    assert [(p.question, p.sentence, p.label) for p in made] == [
        ("When was the Sydney Opera House finished?", "The Eiffel Tower was finished in 1889.", 0.0),
        ("Who designed the Eiffel Tower?", "Jørn Utzon designed the Sydney Opera House.", 0.0),
    ]
    assert unanswerable(examples, share=0.0, seed=0) == []


def test_yes_no_questions_are_told_from_the_others():
    asks = ["Can insurers cover virtual currency?", "Does England have its own Parliament?", " is it legal?",
            "Were the colours chosen by the parties?"]
    others = ["Who supervises it?", "How is SoFi USD backed?", "Island of what?", "Dogs: do they bark?"]
    assert [yes_no(q) for q in asks] == [True] * 4 and [yes_no(q) for q in others] == [False] * 4


def _cuad_folder(tmp_path, n=4):
    """n small contracts; each asks whether it can be terminated (answered) and which law governs it (not)."""
    folder = tmp_path / "cuad"
    (folder / "docs").mkdir(parents=True)
    rows = []
    for k in range(n):
        name = f"c{k}.txt"
        (folder / "docs" / name).write_text(
            f"AGREEMENT {k}\n\n1. Term. This agreement runs for {k + 2} years from the effective date.\n\n"
            "2. Termination. Either party may terminate this agreement on ninety days' written notice.\n\n"
            "3. Payment. The customer pays the fees within thirty days of each invoice.\n", encoding="utf-8")
        rows.append({"id": f"t{k}", "doc": name, "question": "Can a party terminate this agreement?",
                     "answers": ["Either party may terminate this agreement"], "category": "Termination"})
        rows.append({"id": f"g{k}", "doc": name, "question": "Which law governs this agreement?", "answers": [],
                     "category": "Governing Law"})
    (folder / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_cuad_parts_split_the_contracts_without_overlap():
    items = [Item(f"q{k}", "?", (), docs=(f"d{k:02}.txt",)) for k in range(12)]
    parts = {name: {i.docs[0] for i in cuad.part(items, name)} for name in ("train", "calibrate", "measure")}
    assert parts["train"] == {f"d{k:02}.txt" for k in range(1, 12, 2)}
    assert parts["calibrate"] == {"d00.txt", "d04.txt", "d08.txt"}
    assert parts["measure"] == {"d02.txt", "d06.txt", "d10.txt"}
    assert len(cuad.part(items, "all")) == 12
    with pytest.raises(DatasetError, match="unknown CUAD part 'test'"):
        cuad.part(items, "test")


def test_cuad_pairs_come_from_the_training_contracts_only(tmp_path):
    pairs = cuad_pairs(_cuad_folder(tmp_path))
    positives = [p for p in pairs if p.label == 1.0]
    assert len(positives) == 2   # contracts c1 and c3: ranks 1 and 3
    assert all(p.sentence.startswith("2. Termination. Either party may terminate") for p in positives)
    unanswered = [p for p in pairs if p.question.startswith("Which law")]
    assert unanswered and all(p.label == 0.0 for p in unanswered)
    assert {p.sentence for p in pairs} <= {s for k in (1, 3) for s in (
        f"1. Term. This agreement runs for {k + 2} years from the effective date.",
        "2. Termination. Either party may terminate this agreement on ninety days' written notice.",
        "3. Payment. The customer pays the fees within thirty days of each invoice.", f"AGREEMENT {k}")}


def _documents_folder(tmp_path):
    """One benefit page (a table among its paragraphs) and three questions asked within it: answered, a follow-up,
    not answered (an eval dataset folder, as eval/data/staff_wide)."""
    folder = tmp_path / "written"
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "docs" / "carers.html").write_text(
        "<html><head><title>Carer's Allowance</title></head><body><h1>Carer's Allowance</h1>"
        "<p>You could get £83.30 a week if you care for someone at least 35 hours a week.</p>"
        "<p>Carer's Allowance can affect the other benefits that you and the person you care for get.</p>"
        "<h2>How to claim</h2><p>You can apply online.</p><p>You can also apply by post.</p>"
        "<table><tr><th>Payment</th><th>Rate</th></tr><tr><td>Carer's Allowance</td><td>£83.30</td></tr></table>"
        "</body></html>", encoding="utf-8")
    page = ["written/docs/carers.html"]
    rows = [
        {"id": "c1", "docs": page, "question": "how much is carers allowance", "answers": ["£83.30 a week"],
         "history": []},
        {"id": "c2", "docs": page, "question": "how do i apply for it?", "answers": ["You can apply online."],
         "history": ["how much is carers allowance"]},
        {"id": "c3", "docs": page, "question": "who is the minister for carers?", "answers": [], "history": []},
    ]
    (folder / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_written_questions_pair_with_their_answering_sentences_and_read_a_follow_up_twice(tmp_path):
    pairs = document_pairs(_documents_folder(tmp_path), seed=0)
    positives = {(p.question, p.sentence) for p in pairs if p.label == 1.0}
    assert positives == {
        ("how much is carers allowance",
         "You could get £83.30 a week if you care for someone at least 35 hours a week."),
        ("how much is carers allowance how do i apply for it?", "You can apply online."),   # as the chat resolves it
        ("how do i apply for it?", "You can apply online."),                                # and as asked
    }
    for question in ("how much is carers allowance", "how do i apply for it?"):
        negatives = {p.sentence for p in pairs if p.question == question and p.label == 0.0}
        assert negatives and not negatives & {s for _, s in positives if _ == question}
    assert "Carer's Allowance, £83.30." in {p.sentence for p in pairs}   # a table row, as the reader reads it
    unanswered = [p for p in pairs if p.question.startswith("who is the minister")]
    assert unanswered and all(p.label == 0.0 for p in unanswered)
    liked = {"You can also apply by post.": 9.0}
    mined = document_pairs(_documents_folder(tmp_path), seed=0,
                           score=lambda q, ss: [liked.get(s, 0.0) for s in ss])
    assert ("how do i apply for it?", "You can also apply by post.", 0.0) in {
        (p.question, p.sentence, p.label) for p in mined}   # what the earlier reader likes best is a negative


def test_the_shipped_reader_reads_back_into_torch_and_scores_as_it_does_in_onnx():
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from assistant.reader import READER_DIR, Reader
    from embeddings.settings import bundled_model_dir
    from eval.onnx_weights import load_into

    model = AutoModelForSequenceClassification.from_pretrained(bundled_model_dir(), num_labels=1)
    before = model.classifier.weight.detach().clone()
    load_into(model, READER_DIR / "reader.onnx", keep=("bert.embeddings.word_embeddings.weight",))
    assert not torch.equal(before, model.classifier.weight)
    question = "How much is Carer's Allowance?"
    sentences = ["You could get £83.30 a week if you care for someone at least 35 hours a week.",
                 "You can apply online.", "The castle was built in the twelfth century."]
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_dir())
    with torch.no_grad():
        enc = tokenizer([question] * 3, sentences, padding=True, truncation="only_second", max_length=96,
                        return_tensors="pt")
        ours = model.eval()(**enc).logits.squeeze(-1).numpy()
    shipped = Reader().logits(question, sentences)
    assert np.argmax(ours) == np.argmax(shipped) == 0
    assert np.abs(ours - shipped).max() < 0.6   # int8 weights dequantised; onnxruntime quantises activations too
    with pytest.raises(ValueError, match="no weights for"):
        load_into(AutoModelForSequenceClassification.from_pretrained(bundled_model_dir(), num_labels=2),
                  READER_DIR / "reader.onnx")


def test_a_short_real_run_trains_exports_and_resumes(tmp_path, capsys):
    paragraphs = [{"context": " ".join(PARAGRAPH), "qas": [
        {"id": str(k), "question": q, "answers": [{"text": a, "answer_start": " ".join(PARAGRAPH).index(a)}]}
        for k, (q, a) in enumerate([("When was the tower finished?", "1889"), ("How tall is the tower?", "330 metres"),
                                    ("How often is it painted?", "every seven years"),
                                    ("Whose company built it?", "Gustave Eiffel's company")])]}]
    squad = tmp_path / "train.json"
    squad.write_text(json.dumps({"data": [{"title": "Tower", "paragraphs": paragraphs}]}), encoding="utf-8")
    args = ["--squad", str(squad), "--cuad", str(_cuad_folder(tmp_path)), "--questions", "3", "--held-out", "1",
            "--batch-size", "8", "--max-tokens", "32", "--threads", "1", "--checkpoint-every", "1",
            "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")]
    assert main(args) == 0
    about = json.loads((tmp_path / "out" / "reader.json").read_text(encoding="utf-8"))
    assert about["max_tokens"] == 32 and "CUAD" in about["trained_on"]
    assert (tmp_path / "out" / "reader.onnx").stat().st_size > 1_000_000
    capsys.readouterr()
    assert main(args) == 0   # the finished checkpoint is picked up, not trained again
    assert "resuming at step" in capsys.readouterr().out
    mined = [*args, "--mine-with", str(tmp_path / "out" / "reader.onnx"), "--work", str(tmp_path / "work2"),
             "--out", str(tmp_path / "out2"), "--unanswerable", "1"]
    assert main(mined) == 0   # a second reader learns from the first one's mistakes
    assert ", 0 made unanswerable)" in capsys.readouterr().out   # its questions name nothing to swap
    hard = json.loads((tmp_path / "work2" / "mined.json").read_text(encoding="utf-8"))["hard"]
    assert len(hard) == 3 and all(hard)
    assert "mine_with" in json.loads((tmp_path / "out2" / "reader.json").read_text(encoding="utf-8"))["settings"]
    on = [*args, "--start-from", str(tmp_path / "out" / "reader.onnx"), "--documents", str(_documents_folder(tmp_path)),
          "--cuad", "none", "--work", str(tmp_path / "work3"), "--out", str(tmp_path / "out3")]
    assert main(on) == 0   # trained on from the first reader, with questions written against documents
    about = json.loads((tmp_path / "out3" / "reader.json").read_text(encoding="utf-8"))
    assert "staff-like documents" in about["trained_on"] and "trained on from" in about["trained_on"]
    if about["weights"] == "int8":   # quantised per output channel: per tensor, a fine-tune's updates round away
        import onnx

        scales = [i for i in onnx.load(str(tmp_path / "out3" / "reader.onnx")).graph.initializer
                  if i.name.startswith("onnx::MatMul") and i.name.endswith("_scale")]
        assert scales and all(list(i.dims) == [384] or list(i.dims) == [1536] for i in scales)
