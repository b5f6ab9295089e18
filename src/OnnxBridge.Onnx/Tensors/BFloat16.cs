namespace OnnxBridge.Onnx.Tensors;

/// <summary>
/// bfloat16 values, held as their 16 bits (.NET has no bfloat16 type): the upper half of a float32.
/// Converting a float32 rounds to nearest, ties to even, as PyTorch and ONNX Runtime do.
/// </summary>
public static class BFloat16
{
    /// <summary>The bfloat16 nearest to <paramref name="value"/> (a NaN stays a quiet NaN; beyond the largest bfloat16 gives ±∞).</summary>
    public static ushort FromSingle(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        var bits = BitConverter.SingleToUInt32Bits(value);
        var roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>The float32 a bfloat16 stands for (exact).</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
