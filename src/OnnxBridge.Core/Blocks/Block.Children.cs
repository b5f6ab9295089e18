using System.Globalization;
using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

public abstract partial class Block
{
    /// <summary>
    /// The child at <paramref name="index"/> in registration order (PyTorch's <c>net[2]</c>), so
    /// paths such as <c>rgnet[0][1][0]</c> read without casts.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such child; the message says how many there are.</exception>
    public virtual Block this[int index]
    {
        get
        {
            var children = named_children().ToList();
            if (index < 0 || index >= children.Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"{GetName()} has {children.Count} children, so there is no child {index}");
            return AsBlock(children[index].name, children[index].module);
        }
    }

    /// <summary>The child registered as <paramref name="name"/> (PyTorch's <c>getattr(net, "hidden")</c>).</summary>
    /// <exception cref="KeyNotFoundException">No child has that name; the message lists the names there are.</exception>
    public Block this[string name]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(name);
            foreach (var (childName, module) in named_children())
            {
                if (childName == name) return AsBlock(childName, module);
            }
            throw new KeyNotFoundException($"{GetName()} has no child '{name}'; its children are [{string.Join(", ", named_children().Select(c => c.name))}]");
        }
    }

    /// <summary>
    /// This block's own parameter <paramref name="name"/> (PyTorch's <c>net[2].bias</c>:
    /// <c>net[2].Param("bias")</c>).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such parameter, or it is deferred; the message lists what there is.</exception>
    public Parameter Param(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (key, parameter) in named_parameters(recurse: false))
        {
            if (key == name) return parameter;
        }
        var state = HasPendingParameters ? " (its parameters are deferred until the first input or Build)" : "";
        throw new KeyNotFoundException($"{GetName()} has no parameter '{name}'{state}; its parameters are [{string.Join(", ", named_parameters(recurse: false).Select(p => p.name))}]");
    }

    /// <summary>
    /// Registers the modules and parameters held in this block's fields and auto-properties, the way
    /// PyTorch registers attributes: under the field's name (a property's backing field under the
    /// property's name). TorchSharp calls this on every child <c>register_module</c> registers; its
    /// own version registers every field by its field name even when <see cref="Register{T}"/> has
    /// already registered the same object, so a nested user block got each layer twice
    /// (<c>0._hidden.weight</c> beside <c>0.hidden.weight</c>). Here an object registered once is
    /// never registered again, and plain tensor fields stay unregistered, as PyTorch leaves tensor
    /// attributes alone (register constants with <see cref="RegisterBuffer"/>).
    /// </summary>
    protected override void RegisterComponents()
    {
        var registered = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var (_, module) in named_children()) registered.Add(module);
        foreach (var (_, parameter) in named_parameters(recurse: false)) registered.Add(parameter);
        for (var type = GetType(); type is not null && type != typeof(Block); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                var value = field.GetValue(this);
                if (value is not (nn.Module or Parameter) || !registered.Add(value)) continue;
                var name = MemberName(field);
                if (value is Parameter parameter) register_parameter(name, parameter);
                else register_module(name, (nn.Module)value);
            }
        }
    }

    /// <summary>
    /// PyTorch's state dict, in PyTorch's order: this block's parameters and persistent buffers, then
    /// each child's entries under its name, depth first. A tied child appears under each of its names
    /// (<c>2.weight</c> and <c>4.weight</c> hold one tensor), in place — TorchSharp's own version lists
    /// every distinct parameter first and the second names of tied ones at the end.
    /// </summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null)
    {
        destination ??= [];
        var path = string.IsNullOrEmpty(prefix) ? "" : prefix + ".";
        foreach (var (name, parameter) in named_parameters(recurse: false)) destination.TryAdd(path + name, parameter);
        foreach (var (name, (buffer, persistent)) in _internal_buffers)
        {
            if (persistent) destination.TryAdd(path + name, buffer);
        }
        foreach (var (name, child) in named_children()) child.state_dict(destination, path + name);
        return destination;
    }

    /// <summary>
    /// Every distinct buffer below and in this block with its path, the non-persistent ones (kept out
    /// of the state dict, still exported) included when asked: TorchSharp 0.107's
    /// <c>named_buffers(include_nonpersistent: true)</c> skips this block's own non-persistent ones.
    /// </summary>
    internal IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool includeNonPersistent)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var entry in Walk(this, ""))
        {
            if (seen.Add(entry.Buffer)) yield return entry;
        }

        IEnumerable<(string, Tensor Buffer)> Walk(nn.Module module, string path)
        {
            if (module is not Block block)
            {
                foreach (var (name, buffer) in module.named_buffers()) yield return (path + name, buffer);
                yield break;
            }
            foreach (var (name, (buffer, persistent)) in block._internal_buffers)
            {
                if (persistent || includeNonPersistent) yield return (path + name, buffer);
            }
            foreach (var (name, child) in block.named_children())
            {
                foreach (var entry in Walk(child, path + name + ".")) yield return entry;
            }
        }
    }

    /// <summary>A field's name, or for an auto-property's backing field (<c>&lt;Hidden&gt;k__BackingField</c>) the property's.</summary>
    private static string MemberName(FieldInfo field)
    {
        var name = field.Name;
        var end = name.IndexOf(">k__BackingField", StringComparison.Ordinal);
        return name.StartsWith('<') && end > 1 ? name[1..end] : name;
    }

    private Block AsBlock(string name, nn.Module module) =>
        module as Block ?? throw new InvalidCastException(string.Create(CultureInfo.InvariantCulture,
            $"child '{name}' of {GetName()} is a TorchSharp {module.GetType().Name}, not an OnnxBridge block"));
}
