using static TorchSharp.torch;

namespace OnnxBridge.Core.Init;

/// <summary>
/// PyTorch's <c>torch.nn.init</c> functions as values, each filling the one tensor it is given in
/// place (under <c>no_grad</c>, as <c>nn.init</c> does); combine them with
/// <see cref="Initializers.Weight"/> and <see cref="Initializers.Bias"/>.
/// </summary>
public static class TensorInit
{
    /// <summary><c>nn.init.normal_(t, mean, std)</c>.</summary>
    public static Action<Tensor> Normal(double mean = 0, double std = 1) => t => Fill(t, x => nn.init.normal_(x, mean, std));

    /// <summary><c>nn.init.uniform_(t, a, b)</c>.</summary>
    public static Action<Tensor> Uniform(double a = 0, double b = 1) => t => Fill(t, x => nn.init.uniform_(x, a, b));

    /// <summary><c>nn.init.constant_(t, value)</c>.</summary>
    public static Action<Tensor> Constant(double value) => t => Fill(t, x => nn.init.constant_(x, value));

    /// <summary><c>nn.init.zeros_(t)</c>.</summary>
    public static Action<Tensor> Zeros() => t => Fill(t, x => nn.init.zeros_(x));

    /// <summary><c>nn.init.ones_(t)</c>.</summary>
    public static Action<Tensor> Ones() => t => Fill(t, x => nn.init.ones_(x));

    /// <summary><c>nn.init.xavier_uniform_(t, gain)</c> (Glorot).</summary>
    public static Action<Tensor> XavierUniform(double gain = 1) => t => Fill(t, x => nn.init.xavier_uniform_(x, gain));

    /// <summary><c>nn.init.xavier_normal_(t, gain)</c>.</summary>
    public static Action<Tensor> XavierNormal(double gain = 1) => t => Fill(t, x => nn.init.xavier_normal_(x, gain));

    private static void Fill(Tensor tensor, Func<Tensor, Tensor> fill)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var noGrad = no_grad();
        fill(tensor);
    }
}
