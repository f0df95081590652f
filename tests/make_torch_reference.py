"""Regenerate helpers/core/datasets/torch_reference.json: PyTorch's numbers for lessons 5 and 6.

    pip install torch   # not a course dependency; any CPU build
    python tests/make_torch_reference.py

Small cases computed in float64 by torch.nn.LayerNorm, torch.nn.BatchNorm1d and
torch.nn.utils.fusion.fuse_linear_bn_weights (lesson 5), and by torch.nn.BatchNorm2d,
GroupNorm, InstanceNorm2d, RMSNorm and the functional normalizations (lesson 6, its own
random generator, so lesson 5's numbers do not change): inputs, outputs, gradients of
L = sum(dout * out), running statistics, folded weights. Weights are stored in the
course's convention, W of shape (d_in, d_out) for y = X @ W + b (PyTorch stores W.T).
The course's tests (tests/test_lesson5_core.py, tests/test_lesson6_core.py) and the
lessons' checks compare with them.
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


# --------------------------------------------------------------------------- lesson 6


def _affine(layer, rng, C):
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.uniform(0.5, 2.0, size=C)))
        if getattr(layer, "bias", None) is not None:
            layer.bias.copy_(torch.tensor(rng.normal(size=C)))


def _grads(layer, X, rng):
    """out, and the gradients of sum(dout * out) for a random dout."""
    X = torch.tensor(X, requires_grad=True)
    out = layer(X)
    dout = torch.tensor(rng.normal(size=tuple(out.shape)))
    (out * dout).sum().backward()
    grads = {"dout": arr(dout), "dX": arr(X.grad)}
    for name, key in (("weight", "dgamma"), ("bias", "dbeta")):
        p = getattr(layer, name, None)
        if p is not None:
            grads[key] = arr(p.grad)
    return {"X": arr(X), "out": arr(out), **grads}


def batchnorm2d_case(name, rng, shape, eps=1e-5):
    C = shape[1]
    layer = torch.nn.BatchNorm2d(C, eps=eps)
    _affine(layer, rng, C)
    layer.train()
    case = {"name": name, "eps": eps, "momentum": layer.momentum, "gamma": arr(layer.weight),
            "beta": arr(layer.bias),
            **_grads(layer, rng.normal(1.0, 2.0, size=shape), rng)}
    case |= {"running_mean": arr(layer.running_mean), "running_var": arr(layer.running_var)}
    X_eval = torch.tensor(rng.normal(1.0, 2.0, size=(2, *shape[1:])))
    layer.eval()
    return case | {"X_eval": arr(X_eval), "out_eval": arr(layer(X_eval))}


def groupnorm_case(name, rng, shape, G, eps=1e-5):
    layer = torch.nn.GroupNorm(G, shape[1], eps=eps)
    _affine(layer, rng, shape[1])
    return {"name": name, "G": G, "eps": eps, "gamma": arr(layer.weight),
            "beta": arr(layer.bias), **_grads(layer, rng.normal(-1.0, 3.0, size=shape), rng)}


def rmsnorm_case(name, rng, shape, eps):
    layer = torch.nn.RMSNorm(shape[-1], eps=eps)
    _affine(layer, rng, shape[-1])
    used = torch.finfo(torch.float64).eps if eps is None else eps
    return {"name": name, "eps_argument": eps, "eps": used, "gamma": arr(layer.weight),
            **_grads(layer, rng.normal(0.5, 2.0, size=shape), rng)}


def normalize_cases(rng) -> list:
    """normalize(X, axes) as PyTorch computes it, without γ and β."""
    F = torch.nn.functional
    X = torch.tensor(rng.normal(2.0, 3.0, size=(3, 4, 5, 2)))
    instance = torch.nn.InstanceNorm2d(4)
    cases = [
        ("batch norm (training), axes (0, 2, 3)", (0, 2, 3), 1e-5,
         F.batch_norm(X, None, None, training=True, eps=1e-5)),
        ("layer norm over (C, H, W), axes (1, 2, 3)", (1, 2, 3), 1e-5,
         torch.nn.LayerNorm(X.shape[1:], elementwise_affine=False)(X)),
        ("InstanceNorm2d(4) with its defaults, axes (2, 3)", (2, 3), 1e-5, instance(X)),
        ("group norm, 2 groups, eps 0.01, axes (2, 3, 4) of (N, G, C/G, H, W)", (2, 3, 4), 0.01,
         F.group_norm(X, 2, eps=0.01)),
    ]
    out = [{"name": n, "axes": list(a), "eps": e, "X": arr(X), "out": arr(o)} for n, a, e, o in cases]
    out[3]["reshape"] = [3, 2, 2, 5, 2]  # (N, G, C/G, H, W)
    return out


def lesson6(rng) -> dict:
    instance = torch.nn.InstanceNorm2d(3)
    return {
        "normalize": normalize_cases(rng),
        "batchnorm2d": [batchnorm2d_case("4 images, 3 channels of 5×5", rng, (4, 3, 5, 5)),
                        batchnorm2d_case("3 images, 4 channels of 2×4 (W = C)", rng, (3, 4, 2, 4)),
                        batchnorm2d_case("one image, 2 channels of 3×3, eps 0.1", rng, (1, 2, 3, 3),
                                         eps=0.1)],
        "groupnorm": [groupnorm_case("2 images, 6 channels in 3 groups, 3×3", rng, (2, 6, 3, 3), 3),
                      groupnorm_case("3 images, 8 channels in 2 groups, 2×2, eps 0.01", rng,
                                     (3, 8, 2, 2), 2, eps=0.01),
                      groupnorm_case("one image, 4 channels in 1 group (layer norm)", rng,
                                     (1, 4, 4, 5), 1),
                      groupnorm_case("2 images, 3 channels in 3 groups (instance norm)", rng,
                                     (2, 3, 4, 4), 3)],
        "rmsnorm": [rmsnorm_case("4 examples × 6 features, eps 1e-6", rng, (4, 6), 1e-6),
                    rmsnorm_case("2 sequences × 3 tokens × 8 features, eps=None", rng, (2, 3, 8),
                                 None),
                    rmsnorm_case("one example, 5 features, eps 0.1", rng, (1, 5), 0.1)],
        "defaults": {"InstanceNorm2d_affine": instance.affine,
                     "InstanceNorm2d_track_running_stats": instance.track_running_stats,
                     "RMSNorm_eps": torch.nn.RMSNorm(4).eps,
                     "finfo_float64_eps": torch.finfo(torch.float64).eps,
                     "finfo_float32_eps": torch.finfo(torch.float32).eps,
                     "GroupNorm_eps": torch.nn.GroupNorm(2, 4).eps,
                     "BatchNorm2d_momentum": torch.nn.BatchNorm2d(4).momentum},
    }


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
    return data | lesson6(np.random.default_rng(2026))


def main(out: Path = OUT):
    out.write_text(json.dumps(reference(), indent=1) + "\n")
    print(f"wrote {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
