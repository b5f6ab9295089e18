"""PyTorch's own answers for networks converted to float16 and bfloat16.

Run by HalfPrecisionTests with Debian's python3-torch (1.13). For every network below it builds the
torch.nn.Sequential with a fixed seed (BatchNorm statistics and norm affines drawn so they matter),
in eval mode, and writes NAME.pt holding:
  state.f16.<key>, state.bf16.<key>   net.half().state_dict() and net.bfloat16().state_dict()
  input                                the input (float32, or int64 token ids)
  output.f16                           the float16 network's output — computed in float32 on the
                                       float16 weights and input, because PyTorch 1.13's CPU has
                                       no float16 matmul or convolution ("addmm_impl_cpu_" not
                                       implemented for 'Half')
  output.bf16, loss_weight             the bfloat16 network's output on the bfloat16 input
  grad.bf16.input, grad.bf16.<key>     gradients of sum(output * loss_weight), in bfloat16
cases.json lists the names. usage: torch_half.py OUT_DIR
"""
import copy
import json
import os
import sys

import torch
from torch import nn

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)

NETWORKS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10)), [6, 20]),
    "batchnorm_mlp": (lambda: nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.GELU(approximate="tanh"), nn.Linear(32, 10), nn.LogSoftmax(1)), [6, 20]),
    "layernorm_gelu_mlp": (lambda: nn.Sequential(nn.Linear(20, 32), nn.LayerNorm(32), nn.GELU(), nn.Dropout(0.1), nn.Linear(32, 10), nn.Softmax(1)), [6, 20]),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10)), [3, 1, 8, 8]),
    "embedding": (lambda: nn.Sequential(nn.Embedding(50, 8), nn.Flatten(), nn.Linear(48, 4), nn.Tanh()), {"indices": [5, 6], "high": 50}),
}

manifest = []
for index, (name, (make, shape)) in enumerate(NETWORKS.items()):
    torch.manual_seed(3000 + index)
    net = make()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
            if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    net.eval()
    x = torch.randint(0, shape["high"], shape["indices"]) if isinstance(shape, dict) else torch.randn(*shape)
    record = {"input": x}

    half = copy.deepcopy(net).half()
    record.update({"state.f16." + k: v.detach().clone() for k, v in half.state_dict().items()})
    x16 = x.half().float() if x.is_floating_point() else x
    with torch.no_grad():
        record["output.f16"] = copy.deepcopy(half).float()(x16)

    bf = copy.deepcopy(net).bfloat16()
    record.update({"state.bf16." + k: v.detach().clone() for k, v in bf.state_dict().items()})
    xb = x.bfloat16().requires_grad_() if x.is_floating_point() else x
    output = bf(xb)
    weight = torch.randn(output.shape)
    (output.float() * weight).sum().backward()
    record["output.bf16"] = output.detach()
    record["loss_weight"] = weight
    if x.is_floating_point():
        record["grad.bf16.input"] = xb.grad
    for k, p in bf.named_parameters():
        record["grad.bf16." + k] = p.grad
    torch.save(record, os.path.join(OUT, name + ".pt"))
    manifest.append({"name": name})

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(len(manifest))
