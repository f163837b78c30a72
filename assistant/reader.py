"""The reader: a cross-encoder that reads a question with one sentence and scores whether the sentence answers it.

Trained from the bundled all-MiniLM-L6-v2 on SQuAD train by `python -m eval.train_reader`; the weights ship
in assistant/reader/ (ONNX, with reader.json saying how they were made) and run on onnxruntime with the bundled
model's tokenizer, so answering never imports torch. It reads one sentence at a time: the answerer, not the
reader, adds the neighbours a quote needs.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no reader model; reinstall Verbatim, or train one with "
                                    "`python -m eval.train_reader`, or set VERBATIM_READER=off")
        tokenizer = Tokenizer.from_file(str(Path(self.tokenizer_dir or bundled_model_dir()) / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens, strategy="only_second")
        pad = tokenizer.padding or {}
        tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_type_id=pad.get("pad_type_id", 0),
                                 pad_token=pad.get("pad_token", "[PAD]"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")   # as the encoder: busy machines
        session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer, self._session = tokenizer, session
        return session

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """(n,) float32 logits, one per sentence, in order; higher = more likely to answer."""
        if not len(sentences):
            return np.zeros(0, np.float32)
        session = self._session or self._load()
        encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return session.run(None, feed)[0].reshape(-1).astype(np.float32)
