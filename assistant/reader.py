"""The reader: a cross-encoder that reads a question with one sentence and scores whether the sentence answers it.

Trained from the bundled all-MiniLM-L6-v2 on SQuAD train by `python -m eval.train_reader`; the weights ship
in assistant/reader/ (ONNX, with reader.json saying how they were made) and run on onnxruntime with the bundled
model's tokenizer, so answering never imports torch. It reads one sentence at a time: the answerer, not the
reader, adds the neighbours a quote needs.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.encoder import load_tokenizer, model_inputs, onnx_session
from embeddings.settings import bundled_model_dir

READER_DIR = Path(__file__).with_name("reader")


@dataclass(frozen=True, slots=True)
class Calibration:
    """How the reader's logit and the ranker's logit combine into a probability of answering, and the
    confidence under which to abstain; fitted on development data by `python -m eval.calibrate_reader`."""

    reader: float = 1.0
    ranker: float = 0.0
    bias: float = 0.0
    abstain_below: float = 0.5

    def probability(self, reader_logits: np.ndarray, ranker_logits: np.ndarray) -> np.ndarray:
        z = self.reader * reader_logits + self.ranker * ranker_logits + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class Reader:
    """Logits of "this sentence answers this question" for (question, sentence) pairs; loaded on first use."""

    def __init__(self, onnx_path: Path | None = None, max_tokens: int | None = None,
                 tokenizer_dir: str | None = None) -> None:
        self.path = Path(onnx_path) if onnx_path else READER_DIR / "reader.onnx"
        about = self.path.parent / "reader.json"
        meta = json.loads(about.read_text(encoding="utf-8")) if about.is_file() else {}
        if max_tokens is None:
            max_tokens = int(meta.get("max_tokens", 96))
        self.calibration = Calibration(**meta.get("calibration", {}))
        if max_tokens <= 0:
            raise ValueError(f"max_tokens must be greater than 0. Currently, max_tokens is {max_tokens}")
        self.max_tokens = max_tokens
        self.tokenizer_dir = tokenizer_dir
        self._session = None

    def _load(self):
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no reader model; reinstall Verbatim, or train one with "
                                    "`python -m eval.train_reader`, or set VERBATIM_READER=off")
        self._tokenizer = load_tokenizer(Path(self.tokenizer_dir or bundled_model_dir()), self.max_tokens, "only_second")
        self._session = onnx_session(self.path)
        return self._session

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """(n,) float32 logits, one per sentence, in order; higher = more likely to answer."""
        if not len(sentences):
            return np.zeros(0, np.float32)
        session = self._session or self._load()
        feed = model_inputs(self._tokenizer.encode_batch([(question, s) for s in sentences]))
        return session.run(None, feed)[0].reshape(-1).astype(np.float32)


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept off 0 and 1: a probability back on the scale the reader's logits use."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
