using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>d2l's <c>MySequential</c>: a user-written container that keeps its children in order and chains them.</summary>
public sealed class MySequential : Block
{
    private readonly List<Block> _children = [];

    public MySequential(params Block[] children) : base(nameof(MySequential))
    {
        foreach (var child in children)
            _children.Add(Register(_children.Count.ToString(CultureInfo.InvariantCulture), child));
    }

    protected override Value Forward(Value input)
    {
        foreach (var child in _children) input = child.Call(input);
        return input;
    }
}
