using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Tests;

/// <summary>d2l's MLP, written as a user-defined block (section "Layers and Modules").</summary>
internal sealed class Mlp : Block
{
    private readonly Linear _hidden;
    private readonly Linear _out;

    public Mlp() : base("MLP")
    {
        _hidden = Register("hidden", new Linear(256));
        _out = Register("out", new Linear(10));
    }

    protected override Value Forward(Value input) => _out.Call(_hidden.Call(input).Relu());
}

/// <summary>Uses a block that it never registered: export must refuse it.</summary>
internal sealed class UnregisteredChild : Block
{
    private readonly Linear _hidden = new(4, 3);

    public UnregisteredChild() : base(nameof(UnregisteredChild)) { }

    protected override Value Forward(Value input) => _hidden.Call(input);
}

/// <summary>Reads tensor data inside forward, which works eagerly and cannot be exported.</summary>
internal sealed class ReadsData : Block
{
    public ReadsData() : base(nameof(ReadsData)) { }

    protected override Value Forward(Value input) => input.Sum().Item() > 0 ? input : -input;
}

/// <summary>Calls raw TorchSharp on the tensor inside forward: fine eagerly, not exportable.</summary>
internal sealed class RawTorchSharp : Block
{
    public RawTorchSharp() : base(nameof(RawTorchSharp)) { }

    protected override Value Forward(Value input) => Value.Eager(TorchSharp.torch.nn.functional.softplus(input.Tensor));
}

internal static class TestModels
{
    public static Sequential SequentialMlp() => Net.Sequential().Linear(256).ReLU().Linear(10).Build();

    public static InputSpec Input20 { get; } = InputSpec.Float32("input", Dim.Named("batch"), 20);
}
