"""Regenerate helpers/core/datasets/torch_reference.json: PyTorch's numbers for lesson 4.

    pip install torch   # not a course dependency; any CPU build
    python tests/make_torch_reference.py

Small cases computed in float64 by torch.nn.LayerNorm, torch.nn.BatchNorm1d and
torch.nn.utils.fusion.fuse_linear_bn_weights: inputs, outputs, gradients of
L = sum(dout * out), running statistics, folded weights. Weights are stored in the
course's convention, W of shape (d_in, d_out) for y = X @ W + b (PyTorch stores W.T).
The course's tests (tests/test_lesson4_core.py) and lesson 4's checks compare with them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[1] / "helpers" / "core" / "datasets" / "torch_reference.json"
torch.set_default_dtype(torch.float64)


def arr(t) -> list:
    return np.round(t.detach().numpy().astype(float), 15).tolist()


def layernorm_case(name, rng, n, d, eps=1e-5):
    X = torch.tensor(rng.normal(2.0, 3.0, size=(n, d)), requires_grad=True)
    layer = torch.nn.LayerNorm(d, eps=eps)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, size=d)))
        layer.bias.copy_(torch.tensor(rng.normal(size=d)))
    dout = torch.tensor(rng.normal(size=(n, d)))
    out = layer(X)
    (out * dout).sum().backward()
    return {"name": name, "X": arr(X), "gamma": arr(layer.weight), "beta": arr(layer.bias),
            "eps": eps, "dout": arr(dout), "out": arr(out), "dX": arr(X.grad),
            "dgamma": arr(layer.weight.grad), "dbeta": arr(layer.bias.grad)}


def batchnorm_case(name, rng, n, d, momentum=0.1, eps=1e-5):
    layer = torch.nn.BatchNorm1d(d, momentum=momentum, eps=eps)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, size=d)))
        layer.bias.copy_(torch.tensor(rng.normal(size=d)))
    batches = [torch.tensor(rng.normal(1.0, 2.0, size=(n, d)), requires_grad=True) for _ in range(2)]
    dout = torch.tensor(rng.normal(size=(n, d)))
    layer.train()
    out = layer(batches[0])
    (out * dout).sum().backward()
    after_one = (arr(layer.running_mean), arr(layer.running_var))
    layer(batches[1])
    X_eval = torch.tensor(rng.normal(1.0, 2.0, size=(3, d)))
    layer.eval()
    return {"name": name, "momentum": momentum, "eps": eps, "gamma": arr(layer.weight),
            "beta": arr(layer.bias), "X": arr(batches[0]), "dout": arr(dout), "out": arr(out),
            "dX": arr(batches[0].grad), "dgamma": arr(layer.weight.grad),
            "dbeta": arr(layer.bias.grad), "running_mean_1": after_one[0],
            "running_var_1": after_one[1], "X2": arr(batches[1]),
            "running_mean_2": arr(layer.running_mean), "running_var_2": arr(layer.running_var),
            "X_eval": arr(X_eval), "out_eval": arr(layer(X_eval))}


def fold_case(name, rng, d_in, d_out, eps=1e-5):
    linear = torch.nn.Linear(d_in, d_out)
    bn = torch.nn.BatchNorm1d(d_out, eps=eps)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, size=d_out)))
        bn.bias.copy_(torch.tensor(rng.normal(size=d_out)))
        bn.running_mean.copy_(torch.tensor(rng.normal(size=d_out)))
        bn.running_var.copy_(torch.tensor(rng.uniform(0.1, 3.0, size=d_out)))
    bn.eval()
    X = torch.tensor(rng.normal(size=(4, d_in)))
    W_f, b_f = torch.nn.utils.fusion.fuse_linear_bn_weights(
        linear.weight, linear.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return {"name": name, "eps": eps, "W": arr(linear.weight.T), "b": arr(linear.bias),
            "gamma": arr(bn.weight), "beta": arr(bn.bias), "running_mean": arr(bn.running_mean),
            "running_var": arr(bn.running_var), "X": arr(X), "out_eval": arr(bn(linear(X))),
            "W_folded": arr(W_f.T), "b_folded": arr(b_f)}


def reference() -> dict:
    """Every case, computed now with the installed PyTorch."""
    torch.manual_seed(0)
    rng = np.random.default_rng(2024)
    data = {
        "torch_version": torch.__version__,
        "layernorm": [layernorm_case("4 examples × 5 features", rng, 4, 5),
                      layernorm_case("a batch of one example, 6 features", rng, 1, 6),
                      layernorm_case("3 examples × 4 features, eps = 0.1", rng, 3, 4, eps=0.1)],
        "batchnorm1d": [batchnorm_case("8 examples × 3 features, momentum 0.1", rng, 8, 3),
                        batchnorm_case("4 examples × 2 features, momentum 0.3, eps 0.01", rng,
                                       4, 2, momentum=0.3, eps=0.01)],
        "fold": [fold_case("Linear(3, 4) -> BatchNorm1d(4)", rng, 3, 4),
                 fold_case("Linear(5, 2) -> BatchNorm1d(2), eps 0.1", rng, 5, 2, eps=0.1)],
    }
    return data


def main(out: Path = OUT):
    out.write_text(json.dumps(reference(), indent=1) + "\n")
    print(f"wrote {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
