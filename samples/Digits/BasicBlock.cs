using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Digits;

/// <summary>
/// ResNet's basic block, as torchvision writes it and with its state-dict keys (conv1, bn1, conv2,
/// bn2, downsample.0, downsample.1): conv3×3 (no bias) → BatchNorm → ReLU → conv3×3 → BatchNorm,
/// plus the input — through a strided 1×1 conv and BatchNorm when the shape changes — then ReLU.
/// A residual block is an ordinary user block: its forward adds two values.
/// </summary>
public sealed class BasicBlock : Block
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm _bn1, _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(long inChannels, long outChannels, long stride = 1) : base(nameof(BasicBlock))
    {
        _conv1 = Register("conv1", new Conv2d(inChannels, outChannels, [3], [stride], [1], bias: false));
        _bn1 = Register("bn1", new BatchNorm(outChannels));
        _conv2 = Register("conv2", new Conv2d(outChannels, outChannels, [3], [1], [1], bias: false));
        _bn2 = Register("bn2", new BatchNorm(outChannels));
        if (stride != 1 || inChannels != outChannels)
            _downsample = Register("downsample", new Sequential(new Conv2d(inChannels, outChannels, [1], [stride], bias: false), new BatchNorm(outChannels)));
    }

    protected override Value Forward(Value input)
    {
        var main = _bn2.Call(_conv2.Call(_bn1.Call(_conv1.Call(input)).Relu()));
        var shortcut = _downsample is null ? input : _downsample.Call(input);
        return (main + shortcut).Relu();
    }
}
