using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

public abstract partial class Block
{
    /// <summary>Moves every parameter and buffer to <paramref name="device"/> (PyTorch's <c>net.to(device)</c>); returns this block.</summary>
    public Block to(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        ModuleExtensionMethods.to(this, device);
        return this;
    }

    /// <summary>
    /// Converts every floating-point parameter and buffer to <paramref name="type"/> (PyTorch's
    /// <c>net.to(torch.float16)</c>, <c>net.half()</c>, <c>net.double()</c>); integer buffers such as
    /// BatchNorm's <c>num_batches_tracked</c> keep their type. Deferred layers materialize later in
    /// their first input's type. Returns this block.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not a floating-point type (PyTorch refuses those too).</exception>
    public Block to(ScalarType type)
    {
        if (type is not (ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"a block converts to a floating-point type (Float16, BFloat16, Float32, Float64), not {type}: integer parameters could not be trained", nameof(type));
        ModuleExtensionMethods.to(this, type);
        return this;
    }

    /// <summary>
    /// The type and device deferred parameters materialize in when a state-dict load plans them:
    /// float32 on the CPU until <c>to(...)</c> converts the still-deferred block (PyTorch's
    /// uninitialized parameters convert too). From a first input they take the input's.
    /// </summary>
    private (ScalarType Type, Device Device) _deferredTarget = (ScalarType.Float32, CPU);

    /// <summary>The element type a deferred block materializes in for a state-dict load.</summary>
    protected internal ScalarType DeferredType => _deferredTarget.Type;

    /// <summary>The device a deferred block materializes on for a state-dict load.</summary>
    protected Device DeferredDevice => _deferredTarget.Device;

    /// <summary>
    /// TorchSharp converts a module by replacing each parameter and buffer with a new tensor and
    /// then finding the fields to update by name. That fails on a block with two indexers (both
    /// named <c>Item</c>) and misses every field whose name is not the parameter's (a property's
    /// backing field, <c>_weight</c>), which would keep the disposed original. Here each child
    /// converts itself, and every field of this block that held a replaced tensor is pointed at the
    /// replacement, whatever its name.
    /// </summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        if (dtype is null && device is null) throw new ArgumentException("a conversion needs a type or a device");
        var converted = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance); // a tied child appears under each of its names
        foreach (var (_, child) in named_children())
        {
            if (!converted.Add(child)) continue;
            if (device is null) ModuleExtensionMethods.to(child, dtype!.Value, non_blocking);
            else if (dtype is null) ModuleExtensionMethods.to(child, device, non_blocking);
            else ModuleExtensionMethods.to(child, device, dtype.Value, non_blocking);
        }

        var replaced = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in named_parameters(recurse: false).ToList())
        {
            if (!ReplaceParameter(dtype, device, parameter, out var replacement)) continue;
            ConditionallyRegisterParameter(name, replacement);
            replaced[parameter] = replacement!;
        }
        var persistent = named_buffers(recurse: false, include_nonpersistent: false).Select(b => b.name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, buffer) in named_buffers(recurse: false, include_nonpersistent: true).ToList())
        {
            if (!ReplaceBuffer(dtype, device, buffer, out var replacement)) continue; // disposes the original
            ConditionallyRegisterBuffer(name, replacement!, persistent.Contains(name));
            replaced[buffer] = replacement!;
        }
        RepointFields(replaced);
        foreach (var original in replaced.Keys.OfType<TorchSharp.Modules.Parameter>()) original.Dispose();
        if (device is not null) (_deviceType, _deviceIndex) = (device.type, device.index);
        if (HasPendingParameters) _deferredTarget = (dtype ?? _deferredTarget.Type, device ?? _deferredTarget.Device);
    }

    /// <summary>Points every field of this block (its own type and the types between it and <see cref="Block"/>) that held a replaced tensor at its replacement.</summary>
    private void RepointFields(Dictionary<Tensor, Tensor> replaced)
    {
        if (replaced.Count == 0) return;
        for (var type = GetType(); type is not null && type != typeof(Block); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.GetValue(this) is Tensor held && replaced.TryGetValue(held, out var replacement)) field.SetValue(this, replacement);
            }
        }
    }
}
