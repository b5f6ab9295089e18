using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

public abstract partial class Block
{
    private readonly List<Action<Block>> _pendingInitializers = [];

    /// <summary>
    /// Runs <paramref name="initializer"/> on this block and every block below it (PyTorch's
    /// <c>net.apply(init_fn)</c>), under <c>no_grad</c>. A block whose parameters are still deferred
    /// keeps the initializer and runs it when they materialize, right after its default
    /// initialization; blocks that materialize from a loaded state dict drop it, since the file's
    /// values win.
    /// </summary>
    /// <returns>This block, for chaining.</returns>
    public Block Initialize(Action<Block> initializer)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        using var noGrad = no_grad();
        var seen = new HashSet<Block>(ReferenceEqualityComparer.Instance);
        foreach (var block in named_modules().Select(m => m.module).OfType<Block>().Prepend(this))
        {
            if (!seen.Add(block)) continue; // a shared block is initialized once
            if (block.HasPendingParameters) block._pendingInitializers.Add(initializer);
            else initializer(block);
        }
        return this;
    }

    /// <summary>
    /// For deferred blocks: call right after materializing. With <paramref name="run"/> the pending
    /// initializers run in request order; without (values come from a state dict) they are dropped.
    /// </summary>
    protected void CompleteMaterialization(bool run)
    {
        if (run)
        {
            using var noGrad = no_grad();
            foreach (var initializer in _pendingInitializers) initializer(this);
        }
        _pendingInitializers.Clear();
    }
}
