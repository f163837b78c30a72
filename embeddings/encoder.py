"""The sentence-transformers model: texts in, L2-normalised vectors out; loaded once, offline, by path.

`encode_passages` also pools a vector for each given span (a sentence) from the same forward pass, so
sentence-level scoring costs no second encoder pass. Nothing here downloads weights.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # weights come from a path; a hub look-up would only fail here


class Encoder(Protocol):
    """What indexing and retrieval need of a model; a tiny fake can stand in for unit tests of ranking."""

    name: str
    dim: int
    texts_encoded: int

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


class SentenceEncoder:
    """A sentence-transformers model on the CPU. `texts_encoded` counts every text sent through the model."""

    def __init__(self, model_path: str, name: str | None = None, batch_size: int = 32) -> None:
        if not model_path:
            raise ValueError("model_path is empty; name a sentence-transformers model folder or name")
        self.path = model_path
        self.name = name or model_path
        self.batch_size = batch_size
        self.texts_encoded = 0
        self._model = None
        self._counter = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.path, device="cpu")
            except OSError as exc:
                raise ValueError(
                    f"cannot load the embedding model {self.path!r} ({exc}); set VERBATIM_MODEL to a local "
                    "sentence-transformers folder, or unset it to use the bundled all-MiniLM-L6-v2"
                ) from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens in `text`, without the special tokens the model adds."""
        if self._counter is None:
            tokenizer_file = Path(self.path) / "tokenizer.json"
            if tokenizer_file.is_file():   # the bare tokenizers library: no torch import just to count
                from tokenizers import Tokenizer

                counter = Tokenizer.from_file(str(tokenizer_file))
                counter.no_truncation()
                counter.no_padding()
                self._counter = lambda t: len(counter.encode(t, add_special_tokens=False).ids)
            else:
                tok = self.model.tokenizer
                self._counter = lambda t: len(tok(t, add_special_tokens=False)["input_ids"])
        return self._counter(text)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        self.texts_encoded += len(texts)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors (n, dim) and, per passage, (k, dim) vectors mean-pooled over each span's tokens.

        A span with no token inside the model's window comes back as a row of NaN: the caller encodes it alone.
        """
        import torch

        model = self.model
        dim = self.dim
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))   # a batch pads to its longest text
        passage_vecs = np.zeros((len(texts), dim), dtype=np.float32)
        span_vecs: list[np.ndarray] = [np.zeros((0, dim), dtype=np.float32)] * len(texts)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="passage")
        for b in range(0, len(order), self.batch_size):
            batch = order[b:b + self.batch_size]
            features = model.tokenizer(
                [texts[i] for i in batch], padding=True, truncation=True, max_length=self.max_tokens,
                return_offsets_mapping=True, return_tensors="pt",
            )
            offsets = features.pop("offset_mapping").numpy()   # (b, L, 2) char offsets; (0, 0) for specials
            with torch.inference_mode():
                out = model(dict(features))
            tokens = out["token_embeddings"].numpy()   # (b, L, dim)
            pooled = out["sentence_embedding"].numpy()
            for row, i in enumerate(batch):
                passage_vecs[i] = pooled[row]
                span_vecs[i] = _pool_spans(tokens[row], offsets[row], spans[i], dim)
            self.texts_encoded += len(batch)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        norms = np.linalg.norm(passage_vecs, axis=1, keepdims=True)
        return passage_vecs / np.maximum(norms, 1e-12), span_vecs


def _pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]], dim: int) -> np.ndarray:
    """(k, dim) normalised means of the token vectors inside each char span; NaN rows where none is inside."""
    out = np.full((len(spans), dim), np.nan, dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for k, (start, end) in enumerate(spans):
        mask = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if mask.any():
            v = tokens[mask].mean(axis=0)
            out[k] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out
