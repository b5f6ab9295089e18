"""PyTorch's own answers for OnnxBridge's layers.

Run by the C# conformance tests with Debian's python3-torch (1.13). For every case below it builds
the torch.nn module with a fixed seed, in eval mode, and writes CASE.pt: the module's state dict
under "state.<key>", the input ("input"), PyTorch's output ("output"), and the gradients of
sum(output * loss_weight) with respect to the input ("grad.input") and every parameter
("grad.<key>"). cases.json lists name, layer, args and the module's print (repr). The C# side builds the same layer from the
same arguments (LayerConformanceTests), strict-loads the state dict and compares.

usage: torch_layers.py OUT_DIR
"""
import json
import os
import sys

import torch
from torch import nn

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)

# layer name -> torch constructor from the case's args (PyTorch's own argument names)
LAYERS = {
    "Identity": lambda a: nn.Identity(),
    "ReLU": lambda a: nn.ReLU(),
    "Sigmoid": lambda a: nn.Sigmoid(),
    "Tanh": lambda a: nn.Tanh(),
    "LeakyReLU": lambda a: nn.LeakyReLU(**a),
    "PReLU": lambda a: nn.PReLU(**a),
    "ELU": lambda a: nn.ELU(**a),
    "SELU": lambda a: nn.SELU(),
    "CELU": lambda a: nn.CELU(**a),
    "GELU": lambda a: nn.GELU(**a),
    "SiLU": lambda a: nn.SiLU(),
    "Mish": lambda a: nn.Mish(),
    "Hardtanh": lambda a: nn.Hardtanh(**a),
    "ReLU6": lambda a: nn.ReLU6(),
    "Hardsigmoid": lambda a: nn.Hardsigmoid(),
    "Hardswish": lambda a: nn.Hardswish(),
    "Softplus": lambda a: nn.Softplus(**a),
    "Softsign": lambda a: nn.Softsign(),
    "Softmax": lambda a: nn.Softmax(**a),
    "LogSoftmax": lambda a: nn.LogSoftmax(**a),
    "Softmin": lambda a: nn.Softmin(**a),
    "GLU": lambda a: nn.GLU(**a),
    "Linear": lambda a: nn.Linear(**a),
    "LazyLinear": lambda a: nn.LazyLinear(**a),
    "Conv1d": lambda a: nn.Conv1d(**a),
    "Conv2d": lambda a: nn.Conv2d(**a),
    "Conv3d": lambda a: nn.Conv3d(**a),
    "LazyConv2d": lambda a: nn.LazyConv2d(**a),
    "MaxPool1d": lambda a: nn.MaxPool1d(**a),
    "MaxPool2d": lambda a: nn.MaxPool2d(**a),
    "MaxPool3d": lambda a: nn.MaxPool3d(**a),
    "AvgPool1d": lambda a: nn.AvgPool1d(**a),
    "AvgPool2d": lambda a: nn.AvgPool2d(**a),
    "AvgPool3d": lambda a: nn.AvgPool3d(**a),
    "AdaptiveAvgPool1d": lambda a: nn.AdaptiveAvgPool1d(**a),
    "AdaptiveAvgPool2d": lambda a: nn.AdaptiveAvgPool2d(**a),
    "AdaptiveMaxPool1d": lambda a: nn.AdaptiveMaxPool1d(**a),
    "AdaptiveMaxPool2d": lambda a: nn.AdaptiveMaxPool2d(**a),
    "BatchNorm1d": lambda a: nn.BatchNorm1d(**a),
    "BatchNorm2d": lambda a: nn.BatchNorm2d(**a),
    "Flatten": lambda a: nn.Flatten(),
    "Dropout": lambda a: nn.Dropout(**a),
    "ConvTranspose1d": lambda a: nn.ConvTranspose1d(**a),
    "ConvTranspose2d": lambda a: nn.ConvTranspose2d(**a),
    "LazyConvTranspose2d": lambda a: nn.LazyConvTranspose2d(**a),
    "Upsample": lambda a: nn.Upsample(**a),
    "PixelShuffle": lambda a: nn.PixelShuffle(**a),
    "PixelUnshuffle": lambda a: nn.PixelUnshuffle(**a),
    "ZeroPad2d": lambda a: nn.ZeroPad2d(**a),
    "ConstantPad1d": lambda a: nn.ConstantPad1d(**a),
    "ConstantPad2d": lambda a: nn.ConstantPad2d(**a),
    "ReflectionPad1d": lambda a: nn.ReflectionPad1d(**a),
    "ReflectionPad2d": lambda a: nn.ReflectionPad2d(**a),
    "ReplicationPad1d": lambda a: nn.ReplicationPad1d(**a),
    "ReplicationPad2d": lambda a: nn.ReplicationPad2d(**a),
    "Dropout1d": lambda a: nn.Dropout1d(**a),
    "Dropout2d": lambda a: nn.Dropout2d(**a),
    "AlphaDropout": lambda a: nn.AlphaDropout(**a),
    "FlattenRange": lambda a: nn.Flatten(**a),
    "BatchNorm3d": lambda a: nn.BatchNorm3d(**a),
    "LazyBatchNorm1d": lambda a: nn.LazyBatchNorm1d(**a),
    "LazyBatchNorm2d": lambda a: nn.LazyBatchNorm2d(**a),
    "Unflatten": lambda a: nn.Unflatten(**a),
    "LayerNorm": lambda a: nn.LayerNorm(**a),
    "GroupNorm": lambda a: nn.GroupNorm(**a),
    "LocalResponseNorm": lambda a: nn.LocalResponseNorm(**a),
    "InstanceNorm1d": lambda a: nn.InstanceNorm1d(**a),
    "InstanceNorm2d": lambda a: nn.InstanceNorm2d(**a),
    "Embedding": lambda a: nn.Embedding(**a),
}

# (name, layer, args, input shape, input scale); a shape {"indices": shape, "high": n} gives int64
# indices in [0, n) instead of Gaussian values.
CASES = [
    ("identity", "Identity", {}, [3, 4], 1),
    ("relu", "ReLU", {}, [3, 4], 1),
    ("sigmoid", "Sigmoid", {}, [3, 4], 3),
    ("tanh", "Tanh", {}, [2, 3, 4], 2),
    ("leaky_relu_default", "LeakyReLU", {}, [3, 4], 1),
    ("leaky_relu_0_2", "LeakyReLU", {"negative_slope": 0.2}, [2, 3, 4], 1),
    ("prelu_shared", "PReLU", {}, [3, 4], 1),
    ("prelu_per_channel", "PReLU", {"num_parameters": 3, "init": 0.1}, [2, 3, 4, 4], 1),
    ("prelu_per_feature", "PReLU", {"num_parameters": 5}, [4, 5], 1),
    ("elu", "ELU", {}, [3, 4], 2),
    ("elu_alpha", "ELU", {"alpha": 0.5}, [3, 4], 2),
    ("selu", "SELU", {}, [3, 4], 2),
    ("celu", "CELU", {"alpha": 2.0}, [3, 4], 2),
    ("gelu_exact", "GELU", {}, [3, 4], 3),
    ("gelu_tanh", "GELU", {"approximate": "tanh"}, [3, 4], 3),
    ("silu", "SiLU", {}, [3, 4], 3),
    ("mish", "Mish", {}, [3, 4], 3),
    ("hardtanh", "Hardtanh", {}, [3, 4], 2),
    ("hardtanh_range", "Hardtanh", {"min_val": -0.5, "max_val": 2.0}, [3, 4], 2),
    ("relu6", "ReLU6", {}, [3, 4], 5),
    ("hardsigmoid", "Hardsigmoid", {}, [3, 4], 4),
    ("hardswish", "Hardswish", {}, [3, 4], 4),
    ("softplus", "Softplus", {}, [3, 4], 3),
    ("softplus_beta_threshold", "Softplus", {"beta": 2.0, "threshold": 5.0}, [4, 5], 4),
    ("softsign", "Softsign", {}, [3, 4], 3),
    ("softmax_dim1", "Softmax", {"dim": 1}, [3, 5], 2),
    ("softmax_last", "Softmax", {"dim": -1}, [2, 3, 4], 2),
    ("log_softmax", "LogSoftmax", {"dim": 1}, [3, 5], 2),
    ("softmin", "Softmin", {"dim": -1}, [3, 5], 2),
    ("glu_last", "GLU", {}, [3, 6], 1),
    ("glu_dim1", "GLU", {"dim": 1}, [2, 4, 3], 1),
    ("linear", "Linear", {"in_features": 6, "out_features": 4}, [3, 6], 1),
    ("linear_no_bias", "Linear", {"in_features": 6, "out_features": 4, "bias": False}, [3, 6], 1),
    ("linear_3d_input", "Linear", {"in_features": 5, "out_features": 2}, [2, 3, 5], 1),
    ("lazy_linear", "LazyLinear", {"out_features": 3}, [4, 7], 1),
    ("conv2d", "Conv2d", {"in_channels": 3, "out_channels": 4, "kernel_size": 3}, [2, 3, 6, 6], 1),
    ("conv2d_stride_padding", "Conv2d", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1}, [1, 2, 7, 7], 1),
    ("conv1d", "Conv1d", {"in_channels": 2, "out_channels": 3, "kernel_size": 3}, [2, 2, 9], 1),
    ("conv1d_stride_padding_dilation", "Conv1d", {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 2, "dilation": 2}, [2, 2, 11], 1),
    ("conv1d_groups_no_bias", "Conv1d", {"in_channels": 4, "out_channels": 6, "kernel_size": 2, "groups": 2, "bias": False}, [2, 4, 7], 1),
    ("conv1d_same_even_kernel", "Conv1d", {"in_channels": 2, "out_channels": 2, "kernel_size": 4, "padding": "same"}, [1, 2, 8], 1),
    ("conv1d_reflect", "Conv1d", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 2, "padding_mode": "reflect"}, [2, 2, 6], 1),
    ("conv2d_rectangular", "Conv2d", {"in_channels": 2, "out_channels": 3, "kernel_size": [3, 5], "stride": [2, 1], "padding": [1, 2]}, [2, 2, 7, 8], 1),
    ("conv2d_dilation", "Conv2d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "dilation": 2, "padding": 2}, [1, 2, 8, 8], 1),
    ("conv2d_depthwise", "Conv2d", {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "groups": 4, "padding": 1}, [2, 4, 5, 5], 1),
    ("conv2d_groups_no_bias", "Conv2d", {"in_channels": 4, "out_channels": 6, "kernel_size": 1, "groups": 2, "bias": False}, [2, 4, 3, 3], 1),
    ("conv2d_same", "Conv2d", {"in_channels": 3, "out_channels": 2, "kernel_size": 3, "padding": "same"}, [1, 3, 5, 6], 1),
    ("conv2d_valid", "Conv2d", {"in_channels": 3, "out_channels": 2, "kernel_size": [2, 3], "padding": "valid"}, [1, 3, 5, 6], 1),
    ("conv2d_replicate", "Conv2d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": 1, "padding_mode": "replicate"}, [1, 2, 5, 5], 1),
    ("conv2d_circular", "Conv2d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": 1, "padding_mode": "circular", "min_opset": 19}, [1, 2, 5, 5], 1),
    ("conv2d_stride_downsample", "Conv2d", {"in_channels": 4, "out_channels": 8, "kernel_size": 1, "stride": 2, "bias": False}, [2, 4, 6, 6], 1),
    ("conv3d", "Conv3d", {"in_channels": 2, "out_channels": 3, "kernel_size": [2, 3, 3], "padding": 1}, [1, 2, 4, 5, 5], 1),
    ("lazy_conv2d", "LazyConv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1}, [2, 2, 5, 5], 1),
    ("maxpool2d", "MaxPool2d", {"kernel_size": 2}, [2, 3, 6, 6], 1),
    ("maxpool2d_stride", "MaxPool2d", {"kernel_size": 3, "stride": 2}, [1, 2, 7, 7], 1),
    ("maxpool1d", "MaxPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, [2, 3, 9], 1),
    ("maxpool1d_dilation_ceil", "MaxPool1d", {"kernel_size": 2, "dilation": 2, "ceil_mode": True}, [2, 2, 10], 1),
    ("maxpool2d_padding", "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, [2, 3, 7, 7], 1),
    ("maxpool2d_rect_ceil", "MaxPool2d", {"kernel_size": [2, 3], "stride": [2, 2], "ceil_mode": True}, [1, 2, 7, 8], 1),
    ("maxpool3d", "MaxPool3d", {"kernel_size": 2}, [1, 2, 4, 4, 4], 1),
    ("avgpool1d", "AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, [2, 3, 9], 1),
    ("avgpool2d", "AvgPool2d", {"kernel_size": 2}, [2, 3, 6, 6], 1),
    ("avgpool2d_padding_exclude", "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, [2, 2, 7, 7], 1),
    ("avgpool2d_padding_include", "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, [2, 2, 7, 7], 1),
    ("avgpool2d_ceil", "AvgPool2d", {"kernel_size": 2, "stride": 2, "ceil_mode": True}, [1, 2, 5, 7], 1),
    ("avgpool3d", "AvgPool3d", {"kernel_size": [2, 2, 2], "stride": 1}, [1, 2, 3, 4, 4], 1),
    ("adaptive_avgpool2d_global", "AdaptiveAvgPool2d", {"output_size": 1}, [2, 3, 5, 7], 1),
    ("adaptive_avgpool2d_divisible", "AdaptiveAvgPool2d", {"output_size": [2, 3]}, [2, 3, 4, 6], 1),
    ("adaptive_avgpool1d_global", "AdaptiveAvgPool1d", {"output_size": 1}, [2, 3, 9], 1),
    ("adaptive_avgpool1d_divisible", "AdaptiveAvgPool1d", {"output_size": 3}, [2, 3, 9], 1),
    ("adaptive_maxpool2d_global", "AdaptiveMaxPool2d", {"output_size": 1}, [2, 3, 5, 5], 1),
    ("adaptive_maxpool2d_divisible", "AdaptiveMaxPool2d", {"output_size": 2}, [1, 2, 6, 4], 1),
    ("adaptive_maxpool1d_global", "AdaptiveMaxPool1d", {"output_size": 1}, [2, 4, 7], 1),
    ("adaptive_avgpool2d_uneven", "AdaptiveAvgPool2d", {"output_size": 3, "no_export": "no ONNX form"}, [1, 2, 5, 5], 1),
    ("batchnorm1d", "BatchNorm1d", {"num_features": 5}, [4, 5], 1),
    ("batchnorm2d", "BatchNorm2d", {"num_features": 3}, [2, 3, 4, 4], 1),
    ("flatten", "Flatten", {}, [2, 3, 4], 1),
    ("dropout_eval", "Dropout", {"p": 0.5}, [3, 4], 1),
    ("conv_transpose1d", "ConvTranspose1d", {"in_channels": 3, "out_channels": 2, "kernel_size": 3, "stride": 2}, [2, 3, 5], 1),
    ("conv_transpose1d_padding_output_padding", "ConvTranspose1d", {"in_channels": 2, "out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, [1, 2, 6], 1),
    ("conv_transpose2d", "ConvTranspose2d", {"in_channels": 4, "out_channels": 3, "kernel_size": 2, "stride": 2}, [2, 4, 3, 3], 1),
    ("conv_transpose2d_full", "ConvTranspose2d", {"in_channels": 2, "out_channels": 2, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0], "output_padding": [1, 0], "dilation": 1, "bias": False}, [1, 2, 4, 5], 1),
    ("conv_transpose2d_dilation", "ConvTranspose2d", {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "dilation": 2, "padding": 1}, [1, 2, 4, 4], 1),
    ("lazy_conv_transpose2d", "LazyConvTranspose2d", {"out_channels": 2, "kernel_size": 2, "stride": 2}, [1, 3, 3, 3], 1),
    ("upsample_nearest_scale", "Upsample", {"scale_factor": 2.0, "mode": "nearest"}, [1, 2, 3, 4], 1),
    ("upsample_nearest_size", "Upsample", {"size": [5, 7], "mode": "nearest"}, [1, 2, 3, 4], 1),
    ("upsample_bilinear_scale", "Upsample", {"scale_factor": 2.0, "mode": "bilinear", "align_corners": False}, [1, 2, 3, 4], 1),
    ("upsample_bilinear_align", "Upsample", {"scale_factor": 2.0, "mode": "bilinear", "align_corners": True}, [1, 2, 3, 4], 1),
    ("upsample_bilinear_size", "Upsample", {"size": [5, 6], "mode": "bilinear", "align_corners": False}, [1, 2, 3, 4], 1),
    ("upsample_linear_1d", "Upsample", {"scale_factor": 3.0, "mode": "linear", "align_corners": False}, [2, 3, 4], 1),
    ("pixel_shuffle", "PixelShuffle", {"upscale_factor": 2}, [1, 8, 3, 3], 1),
    ("pixel_unshuffle", "PixelUnshuffle", {"downscale_factor": 2}, [1, 2, 4, 6], 1),
    ("zero_pad2d", "ZeroPad2d", {"padding": [1, 2, 0, 3]}, [1, 2, 3, 3], 1),
    ("constant_pad1d", "ConstantPad1d", {"padding": 2, "value": 0.5}, [2, 3, 4], 1),
    ("constant_pad2d", "ConstantPad2d", {"padding": [1, 0, 2, 1], "value": -1.0}, [1, 2, 3, 3], 1),
    ("reflection_pad1d", "ReflectionPad1d", {"padding": [2, 1]}, [2, 3, 5], 1),
    ("reflection_pad2d", "ReflectionPad2d", {"padding": 1}, [1, 2, 4, 4], 1),
    ("replication_pad1d", "ReplicationPad1d", {"padding": [1, 3]}, [2, 3, 4], 1),
    ("replication_pad2d", "ReplicationPad2d", {"padding": [2, 1, 1, 0]}, [1, 2, 3, 4], 1),
    ("dropout1d_eval", "Dropout1d", {"p": 0.3}, [2, 3, 5], 1),
    ("dropout2d_eval", "Dropout2d", {"p": 0.3}, [2, 3, 4, 4], 1),
    ("alpha_dropout_eval", "AlphaDropout", {"p": 0.2}, [3, 4], 1),
    ("flatten_0_to_end", "FlattenRange", {"start_dim": 0, "end_dim": -1}, [2, 3, 4], 1),
    ("flatten_middle", "FlattenRange", {"start_dim": 1, "end_dim": 2}, [2, 3, 4, 5], 1),
    ("batchnorm1d_3d_input", "BatchNorm1d", {"num_features": 3}, [2, 3, 5], 1),
    ("unflatten_dim1", "Unflatten", {"dim": 1, "unflattened_size": [2, 3]}, [4, 6], 1),
    ("unflatten_last_inferred", "Unflatten", {"dim": -1, "unflattened_size": [2, -1]}, [2, 3, 8], 1),
    ("batchnorm3d", "BatchNorm3d", {"num_features": 2}, [2, 2, 3, 3, 3], 1),
    ("lazy_batchnorm1d", "LazyBatchNorm1d", {}, [4, 6], 1),
    ("lazy_batchnorm2d_eps", "LazyBatchNorm2d", {"eps": 1e-3}, [2, 3, 4, 4], 1),
    ("layernorm_last", "LayerNorm", {"normalized_shape": 6}, [3, 6], 2),
    ("layernorm_two_dims", "LayerNorm", {"normalized_shape": [3, 4]}, [2, 3, 4], 2),
    ("layernorm_no_affine", "LayerNorm", {"normalized_shape": [5], "elementwise_affine": False}, [2, 3, 5], 2),
    ("layernorm_eps", "LayerNorm", {"normalized_shape": 4, "eps": 1e-3}, [3, 4], 0.1),
    ("groupnorm", "GroupNorm", {"num_groups": 2, "num_channels": 6}, [2, 6, 3, 3], 2),
    ("groupnorm_1d", "GroupNorm", {"num_groups": 3, "num_channels": 3}, [2, 3, 5], 2),
    ("local_response_norm", "LocalResponseNorm", {"size": 5}, [2, 7, 3, 3], 2),
    ("local_response_norm_3d", "LocalResponseNorm", {"size": 3, "alpha": 0.01, "beta": 0.5, "k": 2.0}, [2, 4, 6], 2),
    ("local_response_norm_even", "LocalResponseNorm", {"size": 4, "no_export": "an even size"}, [1, 6, 2, 2], 2),
    ("groupnorm_no_affine", "GroupNorm", {"num_groups": 1, "num_channels": 4, "affine": False}, [2, 4, 3], 2),
    ("instancenorm1d", "InstanceNorm1d", {"num_features": 3}, [2, 3, 6], 2),
    ("instancenorm2d_affine", "InstanceNorm2d", {"num_features": 3, "affine": True}, [2, 3, 4, 4], 2),
    ("embedding", "Embedding", {"num_embeddings": 10, "embedding_dim": 4}, {"indices": [3, 5], "high": 10}, 1),
    ("embedding_padding", "Embedding", {"num_embeddings": 6, "embedding_dim": 3, "padding_idx": 0}, {"indices": [4, 6], "high": 6}, 1),
    ("embedding_1d", "Embedding", {"num_embeddings": 8, "embedding_dim": 5, "padding_idx": -1}, {"indices": [7], "high": 8}, 1),
]

manifest = []
for index, (name, layer, args, shape, scale) in enumerate(CASES):
    torch.manual_seed(2000 + index)
    min_opset = args.pop("min_opset", 13)
    no_export = args.pop("no_export", None)
    module = LAYERS[layer](args)
    x = torch.randint(0, shape["high"], shape["indices"]) if isinstance(shape, dict) else torch.randn(*shape) * scale
    if layer.startswith("Lazy"):
        module(x)  # materializes from the first input, as in PyTorch
    with torch.no_grad():
        # Trained-looking statistics and affine parameters, so normalization is not the identity.
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
        if isinstance(module, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm)):
            if getattr(module, "weight", None) is not None:
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    module.eval()
    x.requires_grad_(x.is_floating_point())
    output = module(x)
    weight = torch.randn(output.shape)
    (output * weight).sum().backward()
    record = {"state." + k: v.detach().clone() for k, v in module.state_dict().items()}
    record["input"] = x.detach()
    record["output"] = output.detach()
    record["loss_weight"] = weight
    if x.grad is not None:
        record["grad.input"] = x.grad
    for k, p in module.named_parameters():
        record["grad." + k] = p.grad
    torch.save(record, os.path.join(OUT, name + ".pt"))
    manifest.append({"name": name, "layer": layer, "args": args, "min_opset": min_opset, "no_export": no_export, "repr": repr(module)})

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(len(manifest))
