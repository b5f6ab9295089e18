using System.Text;

namespace OnnxBridge.Core.Blocks;

public abstract partial class Block
{
    /// <summary>What goes between the parentheses of this block's line in the structure print, e.g. <c>in_features=20, out_features=256, bias=True</c>.</summary>
    protected virtual string ExtraRepr => "";

    /// <summary>The type name at the start of this block's line in the structure print.</summary>
    protected virtual string DisplayName => GetName();

    /// <summary>Keras's <c>summary()</c>: block calls, output shapes and parameter counts from a symbolic run on <paramref name="input"/>.</summary>
    public ModelSummary Summary(Values.InputSpec input) => ModelSummary.Of(this, input);

    /// <summary>The structure print PyTorch users know: the block's name, then each child as <c>(name): child</c>, indented.</summary>
    public override string ToString()
    {
        var children = named_children().ToList();
        if (children.Count == 0) return $"{DisplayName}({ExtraRepr})";
        var text = new StringBuilder().Append(DisplayName).Append('(');
        if (ExtraRepr.Length > 0) text.Append('\n').Append("  ").Append(ExtraRepr);
        foreach (var (name, child) in children)
        {
            var childText = (child.ToString() ?? child.GetType().Name).Replace("\n", "\n  ", StringComparison.Ordinal);
            text.Append('\n').Append("  (").Append(name).Append("): ").Append(childText);
        }
        return text.Append("\n)").ToString();
    }
}
