"""A reader exported to ONNX (fp32, or int8 by onnxruntime's dynamic quantisation) read back as torch weights.

`python -m eval.train_reader --start-from` trains on from the shipped reader, of which only the ONNX is kept. Int8
weights come back as their dequantised values (scale × (q − zero point)), near the weights they were made from, not
equal; linear layers' weights are found by the named bias their product is added to, as torch.onnx.export leaves
them unnamed. It reads only what `eval.train_reader.export` writes (a BERT sequence classifier).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def onnx_state(path: Path) -> dict[str, np.ndarray]:
    """Parameter name → array (torch's layout) for every parameter the ONNX graph at `path` holds."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    users: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    out = {n: a for n, a in init.items() if "." in n and not n.endswith(("_quantized", "_scale", "_zero_point"))}
    weights = {n: a for n, a in init.items() if n.startswith("onnx::MatMul")}   # fp32 export: unnamed, (in, out)
    for name in (n for n in init if n.endswith("_quantized")):
        base = name[:-len("_quantized")]
        zero = init[base + "_zero_point"].astype(np.float32)
        weights[base] = (init[name].astype(np.float32) - zero) * init[base + "_scale"]
    for base, w in weights.items():
        if base.endswith("_Transposed"):          # a Gemm's weight, stored (in, out)
            out[base[:-len("_Transposed")]] = w.T
        elif not base.startswith("onnx::"):       # an embedding, stored as torch keeps it
            out[base] = w
        else:                                     # a MatMul's (in, out) weight: named by the bias added after it
            out[_bias_after(base + ("_quantized" if base + "_quantized" in init else ""), users, init)
                [:-len(".bias")] + ".weight"] = w.T
    return out


def _bias_after(name: str, users: dict[str, list], init: dict[str, np.ndarray], depth: int = 8) -> str:
    frontier = list(users.get(name, []))
    for _ in range(depth):
        for node in frontier:
            if node.op_type == "Add":
                bias = next((x for x in node.input if x in init and x.endswith(".bias")), None)
                if bias:
                    return bias
        frontier = [u for node in frontier for o in node.output for u in users.get(o, [])]
    raise ValueError(f"{name}: no named bias follows it; not a reader exported by eval.train_reader")


def load_into(model, path: Path, keep: tuple[str, ...] = ()) -> None:
    """Sets `model`'s parameters (a transformers BERT sequence classifier) from the ONNX reader at `path`, except
    those named in `keep`; ValueError when a parameter is missing or of another shape."""
    import torch

    found = onnx_state(path)
    state = model.state_dict()
    for name, value in state.items():
        if name in keep:
            continue
        if name not in found or tuple(found[name].shape) != tuple(value.shape):
            raise ValueError(f"{path}: no weights for {name} {tuple(value.shape)}; not a reader of this shape")
        state[name] = torch.from_numpy(np.array(found[name], dtype=np.float32))
    model.load_state_dict(state)
