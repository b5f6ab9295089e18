using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Digits;

/// <summary>
/// A small U-Net that cleans a noisy digit: 64 raw pixels (0..16) in, 64 clean pixels (0..1) out.
/// Two encoder stages (conv, max-pool) and a bottleneck; the decoder goes back up once with a
/// learned ConvTranspose2d and once with a nearest Upsample, and each level concatenates the
/// encoder's features of the same size (the skips) before its convolution.
/// </summary>
public sealed class DenoisingUNet : Block
{
    private readonly Conv2d _encode1, _encode2, _bottleneck, _decode2, _decode1, _toPixels;
    private readonly MaxPool2d _pool;
    private readonly ConvTranspose2d _up2;
    private readonly Upsample _up1;

    public DenoisingUNet() : base(nameof(DenoisingUNet))
    {
        _encode1 = Register("encode1", new Conv2d(1, 16, [3], padding: [1]));
        _encode2 = Register("encode2", new Conv2d(16, 32, [3], padding: [1]));
        _bottleneck = Register("bottleneck", new Conv2d(32, 32, [3], padding: [1]));
        _pool = Register("pool", new MaxPool2d(2));
        _up2 = Register("up2", new ConvTranspose2d(32, 32, [2], stride: [2]));
        _decode2 = Register("decode2", new Conv2d(64, 32, [3], padding: [1]));
        _up1 = Register("up1", new Upsample(2.0));
        _decode1 = Register("decode1", new Conv2d(48, 16, [3], padding: [1]));
        _toPixels = Register("to_pixels", new Conv2d(16, 1, [1]));
    }

    protected override Value Forward(Value input)
    {
        var image = (input / 16).Reshape(-1, 1, 8, 8);                            // [b, 1, 8, 8] in 0..1
        var e1 = _encode1.Call(image).Relu();                                    // [b, 16, 8, 8]
        var e2 = _encode2.Call(_pool.Call(e1)).Relu();                            // [b, 32, 4, 4]
        var bottom = _bottleneck.Call(_pool.Call(e2)).Relu();                     // [b, 32, 2, 2]
        var d2 = _decode2.Call(Ops.Cat([_up2.Call(bottom), e2], 1)).Relu();       // [b, 32, 4, 4]
        var d1 = _decode1.Call(Ops.Cat([_up1.Call(d2), e1], 1)).Relu();           // [b, 16, 8, 8]
        return _toPixels.Call(d1).Sigmoid().Flatten(1);                          // [b, 64] in 0..1
    }
}
