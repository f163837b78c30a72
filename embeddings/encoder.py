"""The sentence-transformers model: texts in, L2-normalised vectors out; loaded once, offline, by path.

Two backends give the same vectors (checked to 1e-4 when the export is made; 2e-7 measured):
- "onnx": the model's transformer exported once to ONNX (cached per model and machine) and run with
  onnxruntime and the `tokenizers` library. A question embeds about twice as fast, bulk encoding is no
  slower, and answering never imports torch. Only for mean-pooled models with a `tokenizer.json`.
- "torch": sentence-transformers itself; the fallback, and what the ONNX export is made from.
`encode_passages` also pools a vector for each given span (a sentence) from the same forward pass, so
sentence-level scoring costs no second encoder pass. Nothing here downloads weights.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # weights come from a path; a hub look-up would only fail here

Backend = Literal["auto", "onnx", "torch"]
ONNX_FORMAT = 1            # part of the cache key: a change to the export makes a new file
ONNX_OPSET = 17
ONNX_ATOL = 1e-4           # an export whose vectors differ from torch's by more is thrown away
ESTIMATE_ABOVE = 2_000    # passages from which embedding prints its estimated duration first
_PROBES = ("How is SoFi USD backed?", "A longer probe, with punctuation; numbers (42, 3.5%) and ünïcödé.", "x")


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


def default_cache_dir() -> Path:
    """Where exported models are kept: ~/.cache/verbatim (one export per model and machine)."""
    return Path.home() / ".cache" / "verbatim"


class SentenceEncoder:
    """A sentence-transformers model on the CPU. `texts_encoded` counts every text sent through the model.

    `backend="auto"` runs ONNX when the model allows it and falls back to torch otherwise (`backend_note`
    says why); "onnx" refuses to fall back; "torch" never exports.
    """

    def __init__(self, model_path: str, name: str | None = None, batch_size: int = 32,
                 backend: Backend = "auto", cache_dir: Path | None = None) -> None:
        if not model_path:
            raise ValueError("model_path is empty; name a sentence-transformers model folder or name")
        if backend not in ("auto", "onnx", "torch"):
            raise ValueError(f"backend must be 'auto', 'onnx' or 'torch'. Currently, backend is {backend!r}")
        self.path = model_path
        self.name = name or model_path
        self.batch_size = batch_size
        self.texts_encoded = 0
        self.requested = backend
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.backend_note = ""
        self._backend: str | None = None
        self._choosing = threading.Lock()
        self._onnx: _OnnxModel | None = None
        self._model = None
        self._counter = None

    @property
    def model(self):
        """The sentence-transformers model (imports torch): the torch backend, and the source of the export."""
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
    def backend(self) -> str:
        """"onnx" or "torch", decided on first use; the first use on a machine makes the ONNX export (seconds)."""
        if self._backend is None:
            with self._choosing:   # two first questions at once must not export twice
                if self._backend is None:
                    self._backend = self._choose()
        return self._backend

    def _choose(self) -> str:
        if self.requested == "torch":
            return "torch"
        reason = onnx_unsupported(self.path)
        if reason is None:
            try:
                self._onnx = _OnnxModel.open(self.path, onnx_file(self.path, self.cache_dir), lambda: self.model)
                return "onnx"
            except Exception as exc:   # onnxruntime's errors derive from Exception alone; torch still answers
                reason = f"the ONNX export or runtime failed ({type(exc).__name__}: {exc})"
        if self.requested == "onnx":
            raise ValueError(f"the ONNX backend cannot run the model {self.path!r}: {reason}; use backend='torch'")
        self.backend_note = reason
        return "torch"

    @property
    def dim(self) -> int:
        if self.backend == "onnx":
            return self._onnx.dim
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return self._onnx.max_tokens if self.backend == "onnx" else int(self.model.max_seq_length)

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
        if self.backend == "onnx":
            return self._onnx.encode(texts, self.batch_size)
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
        dim = self.dim
        forward = self._onnx.forward if self.backend == "onnx" else self._torch_forward
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))   # a batch pads to its longest text
        passage_vecs = np.zeros((len(texts), dim), dtype=np.float32)
        span_vecs: list[np.ndarray] = [np.zeros((0, dim), dtype=np.float32)] * len(texts)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="passage")
        began = time.perf_counter()
        for b in range(0, len(order), self.batch_size):
            batch = order[b:b + self.batch_size]
            tokens, pooled, offsets = forward([texts[i] for i in batch])
            for row, i in enumerate(batch):
                passage_vecs[i] = pooled[row]
                span_vecs[i] = _pool_spans(tokens[row], offsets[row], spans[i], dim)
            self.texts_encoded += len(batch)
            if bar is not None:
                if b == 0 and len(texts) >= ESTIMATE_ABOVE:   # say what a long run will cost before it runs
                    rate = len(batch) / max(time.perf_counter() - began, 1e-9)
                    bar.write(f"embedding {len(texts):,} passages will take at most about {duration(len(texts) / rate)} "
                              f"on this machine ({rate:.0f} passages/s on the first, longest batch)")
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return _normalise(passage_vecs), span_vecs

    def _torch_forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token vectors (b, L, dim), pooled vectors (b, dim) and char offsets (b, L, 2) from sentence-transformers."""
        import torch

        model = self.model
        features = model.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens,
                                   return_offsets_mapping=True, return_tensors="pt")
        offsets = features.pop("offset_mapping").numpy()   # (0, 0) for special tokens
        with torch.inference_mode():
            out = model(dict(features))
        return out["token_embeddings"].numpy(), out["sentence_embedding"].numpy(), offsets


def onnx_unsupported(model_path: str) -> str | None:
    """Why the ONNX backend cannot stand in for this model, or None when it can.

    It reproduces a transformer + mean pooling (+ normalisation) from a local folder with a tokenizer.json;
    any other pipeline (CLS or max pooling, dense layers, a hub name) stays on torch.
    """
    folder = Path(model_path)
    if not (folder / "tokenizer.json").is_file():
        return f"{model_path!r} is not a local model folder with a tokenizer.json"
    try:
        kinds, pooling = _pipeline(folder)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        return f"the model's modules.json or pooling config is unreadable ({exc})"
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        return f"the model's pipeline is {' + '.join(kinds)}, not Transformer + Pooling (+ Normalize)"
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        return f"the model pools with {', '.join(sorted(modes)) or 'nothing'}, not the mean of its tokens"
    return None


def _pipeline(folder: Path) -> tuple[list[str], dict]:
    """The kinds of a sentence-transformers model's modules ("Transformer", "Pooling", ...) and its pooling config."""
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    return [m["type"].rsplit(".", 1)[-1] for m in modules], pooling


def onnx_file(model_path: str, cache_dir: Path) -> Path:
    """The cached export of the model in `model_path`: named by the folder and a digest of its files' sizes and times."""
    folder = Path(model_path).resolve()
    stamp = [ONNX_FORMAT, ONNX_OPSET, str(folder)] + [
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()]
    digest = hashlib.sha1(json.dumps(stamp).encode("utf-8")).hexdigest()[:16]
    return Path(cache_dir) / "onnx" / f"{folder.name}-{digest}.onnx"


def export_onnx(model, target: Path) -> None:
    """Write the transformer of a sentence-transformers `model` (token vectors out) to `target` as ONNX.

    Needs torch and the `onnx` package; the file appears whole or not at all (written aside, then renamed).
    """
    import torch

    transformer = model[0].auto_model.eval()
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in model.tokenizer("probe")]

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs):
            return self.transformer(**dict(zip(names, inputs))).last_hidden_state

    sample = model.tokenizer(list(_PROBES), padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "token_vectors"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with warnings.catch_warnings():   # tracer and deprecation notes about the TorchScript exporter; the check below decides
        warnings.simplefilter("ignore")
        torch.onnx.export(TokenVectors().eval(), tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["token_vectors"], dynamic_axes=axes, opset_version=ONNX_OPSET, dynamo=False)
    os.replace(tmp, target)


def load_tokenizer(folder: Path, max_tokens: int, strategy: str = "longest_first"):
    """The model's own tokenizer.json (`tokenizers`), truncated to `max_tokens` (pairs by `strategy`) and
    padded to the longest text of a batch, not to the fixed length the file may ask for."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    pad = tokenizer.padding or {}
    tokenizer.enable_truncation(max_tokens, strategy=strategy)
    tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_type_id=pad.get("pad_type_id", 0),
                             pad_token=pad.get("pad_token", "[PAD]"))
    return tokenizer


def model_inputs(encodings) -> dict[str, np.ndarray]:
    """input_ids, attention_mask and token_type_ids, (b, L) int64, of a padded batch of encodings."""
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def onnx_session(path: Path):
    """An onnxruntime CPU session on every core this process may use."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    # Spinning threads halved single-question speed on a busy 2-core machine and gained nothing when idle.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class _OnnxModel:
    """The exported transformer on onnxruntime with the model's own tokenizer.json (truncated to its window)."""

    def __init__(self, onnx_path: Path, model_path: str) -> None:
        folder = Path(model_path)
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        _, pooling = _pipeline(folder)
        self.max_tokens = int(config["max_seq_length"])
        self.dim = int(pooling["word_embedding_dimension"])
        self.tokenizer = load_tokenizer(folder, self.max_tokens)
        self.session = onnx_session(onnx_path)
        self.inputs = {i.name for i in self.session.get_inputs()}

    @classmethod
    def open(cls, model_path: str, onnx_path: Path, torch_model) -> _OnnxModel:
        """The cached export, made first when missing (from `torch_model()`) and then checked against torch."""
        if onnx_path.is_file():
            try:
                return cls(onnx_path, model_path)
            except Exception:   # a damaged file (onnxruntime's errors derive from Exception alone): export anew
                onnx_path.unlink(missing_ok=True)
        model = torch_model()
        export_onnx(model, onnx_path)
        runner = cls(onnx_path, model_path)
        expected = np.asarray(model.encode(list(_PROBES), normalize_embeddings=True), dtype=np.float32)
        gap = float(np.abs(runner.encode(_PROBES, len(_PROBES)) - expected).max())
        if gap > ONNX_ATOL:
            onnx_path.unlink(missing_ok=True)
            raise RuntimeError(f"the exported model's vectors differ from torch's by {gap:.1e} (> {ONNX_ATOL})")
        return runner

    def tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token vectors (b, L, dim), attention mask (b, L) and char offsets (b, L, 2); (0, 0) for special tokens."""
        encodings = self.tokenizer.encode_batch(list(texts))
        feed = model_inputs(encodings)
        out = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        return out, feed["attention_mask"], np.array([e.offsets for e in encodings], dtype=np.int64)

    def forward(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token vectors (b, L, dim), their mean (b, dim) and char offsets (b, L, 2)."""
        tokens, mask, offsets = self.tokens(texts)
        return tokens, _mean_pool(tokens, mask), offsets

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """(n, dim) float32, L2-normalised; batches of similar length, as sentence-transformers does."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for b in range(0, len(order), batch_size):
            batch = order[b:b + batch_size]
            tokens, mask, _ = self.tokens([texts[i] for i in batch])
            out[batch] = _mean_pool(tokens, mask)
        return _normalise(out)


def duration(seconds: float) -> str:
    """"1 h 6 min", "12 min" or "40 s"."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else (f"{minutes} min" if minutes else f"{seconds:.0f} s")


def _mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(b, dim) mean of the token vectors the attention mask keeps (sentence-transformers' mean pooling)."""
    weights = mask[..., None].astype(np.float32)
    return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


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
