"""PyTorch's own answers for OnnxBridge's tensor operations.

Run by the C# conformance tests with Debian's python3-torch (1.13): for every case below it writes
CASE.pt, a dict with the inputs (input0, input1, ...), PyTorch's output, and for differentiable
cases the gradients of sum(output * loss_weight) with respect to each floating-point input
(grad_input0, ...), plus cases.json listing name, op, args and whether gradients are recorded.
The C# side maps each op name to the same operation on Value (OpConformanceTests).

usage: torch_ops.py OUT_DIR
"""
import json
import os
import sys

import torch

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def positive(*shape):
    return torch.rand(*shape, dtype=torch.float32) + 0.25


def away_from_zero(*shape):
    x = randn(*shape)
    return x + torch.sign(x) * 0.5


def coarse(*shape):
    # Few distinct values, so comparisons see equal elements too.
    return torch.randint(-2, 3, shape).to(torch.float32)


def bools(*shape):
    return torch.rand(*shape) > 0.5


def weighted_cat(parts, dim):
    return torch.cat([p * (i + 1) for i, p in enumerate(parts)], dim)


# op name -> (torch function of (inputs, args))
OPS = {
    "exp": lambda x, a: torch.exp(x[0]),
    "log": lambda x, a: torch.log(x[0]),
    "sqrt": lambda x, a: torch.sqrt(x[0]),
    "rsqrt": lambda x, a: torch.rsqrt(x[0]),
    "reciprocal": lambda x, a: torch.reciprocal(x[0]),
    "erf": lambda x, a: torch.erf(x[0]),
    "sin": lambda x, a: torch.sin(x[0]),
    "cos": lambda x, a: torch.cos(x[0]),
    "sigmoid": lambda x, a: torch.sigmoid(x[0]),
    "tanh": lambda x, a: torch.tanh(x[0]),
    "abs": lambda x, a: torch.abs(x[0]),
    "neg": lambda x, a: torch.neg(x[0]),
    "relu": lambda x, a: torch.relu(x[0]),
    "pow_scalar": lambda x, a: torch.pow(x[0], a["exponent"]),
    "pow": lambda x, a: torch.pow(x[0], x[1]),
    "clamp": lambda x, a: torch.clamp(x[0], a.get("min"), a.get("max")),
    "add": lambda x, a: x[0] + x[1],
    "sub": lambda x, a: x[0] - x[1],
    "mul": lambda x, a: x[0] * x[1],
    "div": lambda x, a: x[0] / x[1],
    "div_trunc": lambda x, a: torch.div(x[0], x[1], rounding_mode="trunc"),
    "minimum": lambda x, a: torch.minimum(x[0], x[1]),
    "maximum": lambda x, a: torch.maximum(x[0], x[1]),
    "gt": lambda x, a: x[0] > x[1],
    "lt": lambda x, a: x[0] < x[1],
    "ge": lambda x, a: x[0] >= x[1],
    "le": lambda x, a: x[0] <= x[1],
    "eq": lambda x, a: torch.eq(x[0], x[1]),
    "logical_and": lambda x, a: x[0] & x[1],
    "logical_or": lambda x, a: x[0] | x[1],
    "logical_xor": lambda x, a: x[0] ^ x[1],
    "logical_not": lambda x, a: ~x[0],
    "where": lambda x, a: torch.where(x[0], x[1], x[2]),
    "to": lambda x, a: x[0].to(getattr(torch, a["dtype"])),
    "softmax": lambda x, a: torch.softmax(x[0], a["dim"]),
    "log_softmax": lambda x, a: torch.log_softmax(x[0], a["dim"]),
    "softmin": lambda x, a: torch.nn.functional.softmin(x[0], a["dim"]),
    "sum_all": lambda x, a: torch.sum(x[0]),
    "mean_all": lambda x, a: torch.mean(x[0]),
    "sum": lambda x, a: torch.sum(x[0], a["dims"], keepdim=a["keepdim"]),
    "mean": lambda x, a: torch.mean(x[0], a["dims"], keepdim=a["keepdim"]),
    "amax": lambda x, a: torch.amax(x[0], a["dims"], keepdim=a["keepdim"]),
    "amin": lambda x, a: torch.amin(x[0], a["dims"], keepdim=a["keepdim"]),
    "prod": lambda x, a: torch.prod(x[0], a["dim"], keepdim=a["keepdim"]),
    "logsumexp": lambda x, a: torch.logsumexp(x[0], a["dim"], keepdim=a["keepdim"]),
    "argmax": lambda x, a: torch.argmax(x[0], a["dim"], keepdim=a["keepdim"]),
    "argmin": lambda x, a: torch.argmin(x[0], a["dim"], keepdim=a["keepdim"]),
    "matmul": lambda x, a: torch.matmul(x[0], x[1]),
    "reshape": lambda x, a: x[0].reshape(a["shape"]),
    "flatten": lambda x, a: torch.flatten(x[0], a["start"], a["end"]),
    "transpose": lambda x, a: x[0].transpose(a["dim0"], a["dim1"]),
    "permute": lambda x, a: x[0].permute(a["dims"]),
    "squeeze_all": lambda x, a: x[0].squeeze(),
    "squeeze": lambda x, a: x[0].squeeze(a["dim"]),
    "unsqueeze": lambda x, a: x[0].unsqueeze(a["dim"]),
    "cat": lambda x, a: torch.cat(x, a["dim"]),
    "stack": lambda x, a: torch.stack(x, a["dim"]),
    "split_sizes": lambda x, a: weighted_cat(torch.split(x[0], a["sizes"], a["dim"]), a["dim"]),
    "split_size": lambda x, a: weighted_cat(torch.split(x[0], a["size"], a["dim"]), a["dim"]),
    "chunk": lambda x, a: weighted_cat(torch.chunk(x[0], a["chunks"], a["dim"]), a["dim"]),
    "slice": lambda x, a: x[0][(slice(None),) * (a["dim"] % x[0].dim()) + (slice(a["start"], a["end"], a["step"]),)],
    "narrow": lambda x, a: torch.narrow(x[0], a["dim"], a["start"], a["length"]),
    "gather": lambda x, a: torch.gather(x[0], a["dim"], x[1]),
    "index_select": lambda x, a: torch.index_select(x[0], a["dim"], x[1]),
    "scatter": lambda x, a: torch.scatter(x[0], a["dim"], x[1], x[2]),
    "einsum": lambda x, a: torch.einsum(a["equation"], *x),
    "scatter_add": lambda x, a: torch.scatter_add(x[0], a["dim"], x[1], x[2]),
    "expand": lambda x, a: x[0].expand(*a["sizes"]),
    "repeat": lambda x, a: x[0].repeat(*a["repeats"]),
    "zeros_like": lambda x, a: torch.zeros_like(x[0]),
    "ones_like": lambda x, a: torch.ones_like(x[0]),
    "full_like": lambda x, a: torch.full_like(x[0], a["value"]),
    "add_arange_of_size": lambda x, a: x[0] + torch.arange(x[0].size(a["dim"])).to(x[0].dtype),
    "tan": lambda x, a: torch.tan(x[0]),
    "asin": lambda x, a: torch.asin(x[0]),
    "acos": lambda x, a: torch.acos(x[0]),
    "atan": lambda x, a: torch.atan(x[0]),
    "sinh": lambda x, a: torch.sinh(x[0]),
    "cosh": lambda x, a: torch.cosh(x[0]),
    "asinh": lambda x, a: torch.asinh(x[0]),
    "acosh": lambda x, a: torch.acosh(x[0]),
    "atanh": lambda x, a: torch.atanh(x[0]),
    "floor": lambda x, a: torch.floor(x[0]),
    "ceil": lambda x, a: torch.ceil(x[0]),
    "round": lambda x, a: torch.round(x[0]),
    "sign": lambda x, a: torch.sign(x[0]),
    "fmod": lambda x, a: torch.fmod(x[0], x[1]),
    "remainder": lambda x, a: torch.remainder(x[0], x[1]),
    "isnan": lambda x, a: torch.isnan(x[0]),
    "isinf": lambda x, a: torch.isinf(x[0]),
    "isneginf": lambda x, a: torch.isneginf(x[0]),
    "tril": lambda x, a: torch.tril(x[0], a["k"]),
    "triu": lambda x, a: torch.triu(x[0], a["k"]),
    "nll_loss": lambda x, a: torch.nn.functional.nll_loss(x[0], x[1], weight=x[2].detach() if len(x) > 2 else None, reduction=a["reduction"],
                                                          ignore_index=a.get("ignore_index", -100)),
    "cross_entropy": lambda x, a: torch.nn.functional.cross_entropy(x[0], x[1], weight=x[2].detach() if len(x) > 2 else None, reduction=a["reduction"],
                                                                    ignore_index=a.get("ignore_index", -100)),
}

torch.manual_seed(0)

# (name, op, args, inputs)
CASES = [
    ("exp", "exp", {}, [randn(3, 4)]),
    ("log", "log", {}, [positive(3, 4)]),
    ("sqrt", "sqrt", {}, [positive(3, 4)]),
    ("rsqrt", "rsqrt", {}, [positive(2, 3, 4)]),
    ("reciprocal", "reciprocal", {}, [away_from_zero(3, 4)]),
    ("erf", "erf", {}, [randn(3, 4)]),
    ("sin", "sin", {}, [randn(3, 4)]),
    ("cos", "cos", {}, [randn(3, 4)]),
    ("sigmoid", "sigmoid", {}, [randn(3, 4)]),
    ("tanh", "tanh", {}, [randn(3, 4)]),
    ("abs", "abs", {}, [away_from_zero(3, 4)]),
    ("neg", "neg", {}, [randn(3, 4)]),
    ("relu", "relu", {}, [away_from_zero(3, 4)]),
    ("pow_square", "pow_scalar", {"exponent": 2.0}, [randn(3, 4)]),
    ("pow_half", "pow_scalar", {"exponent": 0.5}, [positive(3, 4)]),
    ("pow_tensor_broadcast", "pow", {}, [positive(3, 4), randn(4)]),
    ("clamp_both", "clamp", {"min": -0.5, "max": 0.5}, [randn(4, 5)]),
    ("clamp_min", "clamp", {"min": 0.1}, [randn(4, 5)]),
    ("clamp_max", "clamp", {"max": -0.1}, [randn(4, 5)]),
    ("add_broadcast_row", "add", {}, [randn(3, 4), randn(4)]),
    ("sub_broadcast_3d", "sub", {}, [randn(2, 1, 4), randn(3, 1)]),
    ("mul_broadcast_3d", "mul", {}, [randn(2, 3, 4), randn(1, 3, 1)]),
    ("div_broadcast", "div", {}, [randn(3, 4), away_from_zero(3, 1)]),
    ("minimum", "minimum", {}, [randn(3, 4), randn(3, 4)]),
    ("maximum_broadcast", "maximum", {}, [randn(3, 4), randn(4)]),
    ("gt", "gt", {}, [coarse(3, 4), coarse(3, 4)]),
    ("lt_broadcast", "lt", {}, [coarse(3, 4), coarse(4)]),
    ("ge", "ge", {}, [coarse(3, 4), coarse(3, 4)]),
    ("le", "le", {}, [coarse(3, 4), coarse(3, 4)]),
    ("eq", "eq", {}, [coarse(3, 4), coarse(3, 4)]),
    ("logical_and", "logical_and", {}, [bools(3, 4), bools(3, 4)]),
    ("logical_or", "logical_or", {}, [bools(3, 4), bools(3, 4)]),
    ("logical_xor_broadcast", "logical_xor", {}, [bools(3, 4), bools(4)]),
    ("logical_not", "logical_not", {}, [bools(3, 4)]),
    ("where_broadcast", "where", {}, [bools(3, 4), randn(3, 4), randn(4)]),
    ("to_int64_truncates", "to", {"dtype": "int64"}, [randn(3, 4) * 3]),
    ("to_float_from_int64", "to", {"dtype": "float32"}, [torch.randint(-5, 5, (3, 4))]),
    ("to_bool", "to", {"dtype": "bool"}, [coarse(3, 4)]),
    ("softmax_dim1", "softmax", {"dim": 1}, [randn(3, 5)]),
    ("softmax_last_3d", "softmax", {"dim": -1}, [randn(2, 3, 4)]),
    ("softmax_dim0_3d", "softmax", {"dim": 0}, [randn(2, 3, 4)]),
    ("log_softmax_dim1", "log_softmax", {"dim": 1}, [randn(3, 5) * 4]),
    ("log_softmax_middle", "log_softmax", {"dim": -2}, [randn(2, 3, 4)]),
    ("softmin_dim1", "softmin", {"dim": 1}, [randn(3, 5)]),
    ("sum_all", "sum_all", {}, [randn(3, 4)]),
    ("mean_all", "mean_all", {}, [randn(2, 3, 4)]),
    ("sum_dim1", "sum", {"dims": [1], "keepdim": False}, [randn(3, 4, 5)]),
    ("sum_dims_keepdim", "sum", {"dims": [0, 2], "keepdim": True}, [randn(3, 4, 5)]),
    ("sum_negative_dim", "sum", {"dims": [-1], "keepdim": False}, [randn(3, 4)]),
    ("mean_dim1", "mean", {"dims": [1], "keepdim": False}, [randn(3, 4, 5)]),
    ("mean_dims_keepdim", "mean", {"dims": [-1, -2], "keepdim": True}, [randn(2, 3, 4, 5)]),
    ("amax_dim1", "amax", {"dims": [1], "keepdim": False}, [randn(3, 4, 5)]),
    ("amax_dims_keepdim", "amax", {"dims": [0, 2], "keepdim": True}, [randn(3, 4, 5)]),
    ("amin_dim0", "amin", {"dims": [0], "keepdim": False}, [randn(3, 4)]),
    ("prod_dim1", "prod", {"dim": 1, "keepdim": False}, [away_from_zero(3, 4)]),
    ("prod_keepdim", "prod", {"dim": -1, "keepdim": True}, [away_from_zero(2, 3, 4)]),
    ("logsumexp_dim1", "logsumexp", {"dim": 1, "keepdim": False}, [randn(3, 5) * 10]),
    ("logsumexp_keepdim", "logsumexp", {"dim": -1, "keepdim": True}, [randn(2, 3, 4)]),
    ("argmax_dim1", "argmax", {"dim": 1, "keepdim": False}, [randn(3, 5)]),
    ("argmax_keepdim", "argmax", {"dim": -1, "keepdim": True}, [randn(2, 3, 4)]),
    ("argmin_dim0", "argmin", {"dim": 0, "keepdim": False}, [randn(3, 5)]),
    ("matmul_2d", "matmul", {}, [randn(3, 4), randn(4, 5)]),
    ("matmul_batch_by_matrix", "matmul", {}, [randn(2, 3, 4), randn(4, 5)]),
    ("matmul_batch", "matmul", {}, [randn(2, 3, 4), randn(2, 4, 5)]),
    ("matmul_broadcast_batch", "matmul", {}, [randn(2, 1, 3, 4), randn(3, 4, 2)]),
    ("matmul_vector", "matmul", {}, [randn(4), randn(4, 5)]),
    ("reshape_infer", "reshape", {"shape": [-1, 2]}, [randn(3, 4)]),
    ("reshape_3d", "reshape", {"shape": [2, 3, 2]}, [randn(3, 4)]),
    ("flatten_all", "flatten", {"start": 0, "end": -1}, [randn(2, 3, 4)]),
    ("flatten_middle", "flatten", {"start": 1, "end": 2}, [randn(2, 3, 4, 5)]),
    ("flatten_from1", "flatten", {"start": 1, "end": -1}, [randn(2, 3, 4)]),
    ("transpose", "transpose", {"dim0": 0, "dim1": 2}, [randn(2, 3, 4)]),
    ("transpose_negative", "transpose", {"dim0": -1, "dim1": -2}, [randn(2, 3, 4)]),
    ("permute", "permute", {"dims": [2, 0, 1]}, [randn(2, 3, 4)]),
    ("squeeze_all", "squeeze_all", {}, [randn(3, 1, 4, 1)]),
    ("squeeze_dim", "squeeze", {"dim": 1}, [randn(3, 1, 4)]),
    ("squeeze_dim_not_one", "squeeze", {"dim": 0}, [randn(3, 1, 4)]),
    ("unsqueeze_front", "unsqueeze", {"dim": 0}, [randn(3, 4)]),
    ("unsqueeze_back", "unsqueeze", {"dim": -1}, [randn(3, 4)]),
    ("cat_dim0", "cat", {"dim": 0}, [randn(2, 4), randn(3, 4)]),
    ("cat_dim1_three", "cat", {"dim": 1}, [randn(2, 1), randn(2, 3), randn(2, 2)]),
    ("cat_negative", "cat", {"dim": -1}, [randn(2, 3, 1), randn(2, 3, 2)]),
    ("stack_dim0", "stack", {"dim": 0}, [randn(3, 4), randn(3, 4)]),
    ("stack_last", "stack", {"dim": -1}, [randn(3, 4), randn(3, 4), randn(3, 4)]),
    ("split_sizes", "split_sizes", {"sizes": [1, 3], "dim": 1}, [randn(2, 4, 3)]),
    ("split_size_uneven", "split_size", {"size": 2, "dim": 0}, [randn(5, 3)]),
    ("chunk", "chunk", {"chunks": 3, "dim": -1}, [randn(2, 7)]),
    ("slice_range", "slice", {"dim": 1, "start": 1, "end": 3, "step": 1}, [randn(2, 5)]),
    ("slice_step", "slice", {"dim": 0, "start": 0, "end": 7, "step": 2}, [randn(7, 3)]),
    ("slice_negative", "slice", {"dim": -1, "start": -3, "end": -1, "step": 1}, [randn(2, 3, 6)]),
    ("narrow", "narrow", {"dim": 1, "start": 1, "length": 2}, [randn(3, 4)]),
    ("gather_dim1", "gather", {"dim": 1}, [randn(3, 4), torch.randint(0, 4, (3, 2))]),
    ("gather_dim0", "gather", {"dim": 0}, [randn(3, 4), torch.randint(0, 3, (5, 4))]),
    ("index_select_dim0", "index_select", {"dim": 0}, [randn(4, 3), torch.tensor([3, 0, 0, 2])]),
    # No index repeats within a column (dim 0) or row (dim 1): scatter's order among duplicates is unspecified.
    ("scatter_dim0", "scatter", {"dim": 0}, [randn(3, 5), torch.tensor([[0, 1, 2, 0, 1], [2, 0, 1, 1, 0]]), randn(2, 5)]),
    ("scatter_dim1", "scatter", {"dim": 1}, [randn(2, 4), torch.tensor([[3, 0], [1, 2]]), randn(2, 2)]),
    ("einsum_matmul", "einsum", {"equation": "ij,jk->ik"}, [randn(3, 4), randn(4, 5)]),
    ("einsum_attention_scores", "einsum", {"equation": "bhqd,bhkd->bhqk"}, [randn(2, 2, 3, 4), randn(2, 2, 5, 4)]),
    ("einsum_batched_ellipsis", "einsum", {"equation": "...ij,...jk->...ik"}, [randn(2, 3, 4), randn(1, 4, 5)]),
    ("einsum_implicit_transpose", "einsum", {"equation": "ba"}, [randn(3, 4)]),
    ("einsum_outer", "einsum", {"equation": "i,j->ij"}, [randn(3), randn(4)]),
    ("einsum_sum_rows", "einsum", {"equation": "ij -> j"}, [randn(3, 4)]),
    ("einsum_trace", "einsum", {"equation": "ii"}, [randn(4, 4)]),
    ("einsum_broadcast_size_one", "einsum", {"equation": "ij,ij->ij"}, [randn(3, 1), randn(3, 4)]),
    ("einsum_bilinear", "einsum", {"equation": "bn,anm,bm->ba"}, [randn(2, 3), randn(5, 3, 4), randn(2, 4)]),
    ("scatter_add_duplicates", "scatter_add", {"dim": 0}, [randn(3, 4), torch.tensor([[0, 1, 2, 0], [0, 1, 0, 2]]), randn(2, 4)]),
    ("index_select_last", "index_select", {"dim": -1}, [randn(2, 3, 5), torch.tensor([4, 1])]),
    ("expand_keep", "expand", {"sizes": [3, -1, 4]}, [randn(3, 2, 1)]),
    ("expand_new_leading", "expand", {"sizes": [2, 3, 4]}, [randn(3, 1)]),
    ("repeat", "repeat", {"repeats": [2, 3]}, [randn(2, 3)]),
    ("repeat_new_leading", "repeat", {"repeats": [2, 1, 2]}, [randn(3, 2)]),
    ("zeros_like", "zeros_like", {}, [randn(2, 3)]),
    ("ones_like_int", "ones_like", {}, [torch.randint(0, 5, (2, 3))]),
    ("full_like", "full_like", {"value": 2.5}, [randn(3, 2)]),
    ("add_arange_of_size", "add_arange_of_size", {"dim": 1}, [randn(3, 4)]),
    # Added with the importer (issue #15): the trig family, rounding, remainders, NaN/inf tests, triangles and the losses.
    ("tan", "tan", {}, [randn(3, 4) * 0.5]),
    ("asin", "asin", {}, [torch.rand(3, 4) * 1.8 - 0.9]),
    ("acos", "acos", {}, [torch.rand(3, 4) * 1.8 - 0.9]),
    ("atan", "atan", {}, [randn(3, 4)]),
    ("sinh", "sinh", {}, [randn(3, 4)]),
    ("cosh", "cosh", {}, [randn(3, 4)]),
    ("asinh", "asinh", {}, [randn(3, 4)]),
    ("acosh", "acosh", {}, [positive(3, 4) + 1]),
    ("atanh", "atanh", {}, [torch.rand(3, 4) * 1.8 - 0.9]),
    ("floor", "floor", {}, [randn(3, 4) * 3]),
    ("ceil", "ceil", {}, [randn(3, 4) * 3]),
    ("round_halves_to_even", "round", {}, [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, 2.6])]),
    ("sign", "sign", {}, [coarse(3, 4)]),
    ("fmod", "fmod", {}, [randn(3, 4) * 4, away_from_zero(4)]),
    ("remainder_int", "remainder", {}, [torch.randint(-9, 10, (3, 4)), torch.tensor([3, -3, 4, -5])]),
    ("div_int_truncates", "div_trunc", {}, [torch.randint(-9, 10, (3, 4)), torch.tensor([3, -3, 4, -5])]),
    ("isnan", "isnan", {}, [torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), 0.0])]),
    ("isinf", "isinf", {}, [torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), 0.0])]),
    ("isneginf", "isneginf", {}, [torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), 0.0])]),
    ("tril", "tril", {"k": 0}, [randn(4, 5)]),
    ("tril_batched_negative_k", "tril", {"k": -1}, [randn(2, 4, 5)]),
    ("triu_k1", "triu", {"k": 1}, [randn(5, 4)]),
    ("nll_mean", "nll_loss", {"reduction": "mean"}, [randn(4, 5).log_softmax(1), torch.randint(0, 5, (4,))]),
    ("nll_weight_sum", "nll_loss", {"reduction": "sum"}, [randn(4, 5).log_softmax(1), torch.randint(0, 5, (4,)), positive(5)]),
    ("nll_ignore_index_kdim_mean", "nll_loss", {"reduction": "mean", "ignore_index": 1},
     [randn(3, 4, 2, 2).log_softmax(1), torch.tensor([[[1, 0], [2, 3]], [[1, 1], [0, 2]], [[3, 3], [1, 0]]]), positive(4)]),
    ("nll_none", "nll_loss", {"reduction": "none"}, [randn(4, 5).log_softmax(1), torch.randint(0, 5, (4,))]),
    ("cross_entropy_mean", "cross_entropy", {"reduction": "mean"}, [randn(6, 3), torch.randint(0, 3, (6,))]),
    ("cross_entropy_weight_ignore_none", "cross_entropy", {"reduction": "none", "ignore_index": 2},
     [randn(5, 4), torch.tensor([2, 0, 3, 2, 1]), positive(4)]),
]

# Ops whose ONNX form needs a later opset than 13, the lowest the export tests try.
MIN_OPSET = {"scatter_add": 16}

manifest = []
for index, (name, op, args, inputs) in enumerate(CASES):
    torch.manual_seed(1000 + index)
    inputs = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    output = OPS[op](inputs, args)
    differentiable = output.is_floating_point() and output.requires_grad
    record = {f"input{i}": t.detach() for i, t in enumerate(inputs)}
    record["output"] = output.detach()
    if differentiable:
        weight = torch.randn(output.shape, dtype=output.dtype)
        (output * weight).sum().backward()
        record["loss_weight"] = weight
        for i, t in enumerate(inputs):
            if t.requires_grad and t.grad is not None:   # an input PyTorch does not differentiate (a loss weight) has none
                record[f"grad_input{i}"] = t.grad
    torch.save(record, os.path.join(OUT, name + ".pt"))
    manifest.append({"name": name, "op": op, "args": args, "inputs": len(inputs), "gradients": differentiable, "min_opset": MIN_OPSET.get(op, 13)})

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(len(manifest))
