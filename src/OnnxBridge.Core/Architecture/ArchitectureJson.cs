using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxBridge.Core.Blocks;

namespace OnnxBridge.Core.Architecture;

/// <summary>
/// Architecture files: a block tree as JSON, so a network can be rebuilt — and exported — without
/// the program that built it. Each block is written as its type and the arguments of its public
/// constructor, read back from the public properties of the same names (<c>Linear(inFeatures,
/// outFeatures, bias)</c> ← <c>InFeatures</c>, <c>OutFeatures</c>, <c>HasBias</c>); a block that
/// appears a second time (tied) is a reference to the path where it first appeared; children are
/// written for <see cref="Sequential"/> (with their names) and for constructors taking
/// <c>params Block[]</c>. Other children are made by their parent's constructor and so are not
/// written. The format is documented by <c>docs/architecture.schema.json</c>.
/// </summary>
public static class ArchitectureJson
{
    /// <summary>The format tag every file carries.</summary>
    public const string Format = "onnxbridge.architecture";

    /// <summary>The format version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Refuses deeper nesting, so a hostile file cannot exhaust the stack.</summary>
    public const int MaxDepth = 64;

    /// <summary>Refuses files with more blocks than this.</summary>
    public const int MaxBlocks = 100_000;

    /// <summary>
    /// The default bound on a file-described network's parameters and buffer elements, all built-in
    /// layers together, deferred ones included when they materialize: 2^29 (2 GiB of float32).
    /// Blocks from plugin assemblies allocate what their own code does and are not counted.
    /// </summary>
    public const long DefaultMaxParameters = 1L << 29;

    /// <summary>Describes <paramref name="root"/> as JSON.</summary>
    /// <exception cref="ArchitectureException">A block cannot be described; the message names its path and type.</exception>
    public static string ToJson(Block root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var seen = new Dictionary<Block, string>(ReferenceEqualityComparer.Instance);
        var document = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["root"] = Describe(root, "", seen),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Rebuilds a block tree; user block types are looked up in <paramref name="assemblies"/> (and in OnnxBridge.Core).</summary>
    /// <param name="maxParameters">The most parameters and buffer elements the built-in layers may allocate in all (see <see cref="DefaultMaxParameters"/>).</param>
    /// <exception cref="ArchitectureException">The description is malformed, names an unknown type, or asks for too much.</exception>
    public static Block FromJson(string json, IEnumerable<Assembly>? assemblies = null, long maxParameters = DefaultMaxParameters)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentOutOfRangeException.ThrowIfNegative(maxParameters);
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 4 * MaxDepth + 8 });
        }
        catch (JsonException e)
        {
            throw new ArchitectureException($"the architecture is not valid JSON: {e.Message}", e);
        }
        if (document is not JsonObject top || top["format"] is not JsonValue format || !format.TryGetValue<string>(out var tag) || tag != Format)
            throw new ArchitectureException($"not an architecture file: the top-level object must have \"format\": \"{Format}\"");
        if (top["version"] is not JsonValue v || !v.TryGetValue<int>(out var version) || version != Version)
            throw new ArchitectureException($"architecture version {top["version"]?.ToJsonString() ?? "(missing)"} is not supported; this build reads version {Version}");
        var builder = new Builder([typeof(Block).Assembly, .. assemblies ?? []], new ParameterBudget(maxParameters));
        return builder.Build(top["root"], "", 0);
    }

    private static JsonObject Describe(Block block, string path, Dictionary<Block, string> seen)
    {
        if (seen.TryGetValue(block, out var first)) return new JsonObject { ["ref"] = first };
        seen[block] = path;
        var type = block.GetType();
        var node = new JsonObject { ["type"] = BuiltInLayers.Types.ContainsValue(type) ? type.Name : type.FullName };
        if (block is Sequential or ModuleList or ModuleDict)
        {
            node["children"] = Children(block.named_children().Select(c => (c.name, (Block)c.module)), path, seen);
            return node;
        }
        var constructor = ChooseConstructor(type, path);
        var args = new JsonObject();
        foreach (var parameter in constructor.GetParameters())
        {
            if (parameter.ParameterType == typeof(Block[]))
            {
                node["children"] = Children(block.named_children().Select(c => (c.name, c.module as Block
                    ?? throw new ArchitectureException($"block '{Show(path)}' ({type.Name}) has a child '{c.name}' that is not a Block"))), path, seen);
                continue;
            }
            var property = PropertyFor(type, parameter)!;
            args[parameter.Name!] = ToJson(property.GetValue(block));
        }
        if (args.Count > 0) node["args"] = args;
        return node;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        long[] sizes => new JsonArray([.. sizes.Select(v => (JsonNode)JsonValue.Create(v))]),
        double[] numbers => new JsonArray([.. numbers.Select(v => (JsonNode)JsonValue.Create(v))]),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create(f),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        _ => throw new ArchitectureException($"cannot write a {value.GetType().Name} argument"),
    };

    private static JsonArray Children(IEnumerable<(string Name, Block Block)> children, string path, Dictionary<Block, string> seen)
    {
        var array = new JsonArray();
        foreach (var (name, child) in children)
            array.Add(new JsonObject { ["name"] = name, ["block"] = Describe(child, path.Length == 0 ? name : $"{path}.{name}", seen) });
        return array;
    }

    /// <summary>The public constructor whose every parameter we can fill: a property of the same name, or <c>params Block[]</c> children.</summary>
    private static ConstructorInfo ChooseConstructor(Type type, string path) =>
        type.GetConstructors()
            .Where(c => c.GetParameters().All(p => p.ParameterType == typeof(Block[]) || (IsScalar(p.ParameterType) && PropertyFor(type, p) is not null)))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault()
        ?? throw new ArchitectureException(
            $"block '{Show(path)}' ({type.FullName}) cannot be described: give it a public constructor whose parameters are numbers, " +
            "bools, strings or params Block[], each matched by a public property of the same name");

    /// <summary>
    /// The property that holds a constructor argument's value: the one of the same name and type, or
    /// for a bool argument <c>x</c> one named <c>HasX</c> (PyTorch's <c>bias=True</c> argument beside
    /// the <c>Bias</c> parameter property).
    /// </summary>
    private static PropertyInfo? PropertyFor(Type type, ParameterInfo parameter)
    {
        var argumentType = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        bool Fits(PropertyInfo p, string name) => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase) && p.CanRead
                                                  && argumentType == (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType);
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        return properties.FirstOrDefault(p => Fits(p, parameter.Name!))
               ?? (argumentType == typeof(bool) ? properties.FirstOrDefault(p => Fits(p, "Has" + parameter.Name)) : null);
    }

    private static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(long) || t == typeof(int) || t == typeof(double) || t == typeof(float) || t == typeof(bool) || t == typeof(string) || t == typeof(long[]) || t == typeof(double[]);
    }

    private static string Show(string path) => path.Length == 0 ? "<root>" : path;

    /// <summary>One rebuild: the blocks made so far by path (for references) and the types it may use.</summary>
    private sealed class Builder(IReadOnlyList<Assembly> assemblies, ParameterBudget budget)
    {
        private readonly Dictionary<string, Block> _byPath = new(StringComparer.Ordinal);

        public Block Build(JsonNode? node, string path, int depth)
        {
            if (depth > MaxDepth) throw new ArchitectureException($"block '{Show(path)}' is nested deeper than {MaxDepth} levels");
            if (_byPath.Count >= MaxBlocks) throw new ArchitectureException($"the architecture has more than {MaxBlocks} blocks");
            if (node is not JsonObject obj) throw new ArchitectureException($"block '{Show(path)}' is not a JSON object");

            if (obj["ref"] is { } reference)
            {
                var target = reference.GetValueKind() == JsonValueKind.String ? reference.GetValue<string>() : null;
                return target is not null && _byPath.TryGetValue(target, out var shared)
                    ? shared
                    : throw new ArchitectureException($"block '{Show(path)}' refers to '{reference.ToJsonString()}', which is not a complete block defined before it (references point back to earlier blocks, never to enclosing ones, so cycles cannot be written)");
            }

            var typeName = obj["type"] is JsonValue t && t.TryGetValue<string>(out var name) ? name : throw new ArchitectureException($"block '{Show(path)}' has no \"type\"");
            var type = Resolve(typeName, path);
            var children = obj["children"] as JsonArray;
            Block block;
            if (type == typeof(Sequential) || type == typeof(ModuleList) || type == typeof(ModuleDict))
            {
                var read = ReadChildren(children, path, depth);
                Block container;
                if (type == typeof(Sequential))
                {
                    var sequential = new Sequential();
                    foreach (var (childName, child) in read) sequential.Append(childName, child);
                    container = sequential;
                }
                else if (type == typeof(ModuleList))
                {
                    if (!read.Select(r => r.Name).SequenceEqual(Enumerable.Range(0, read.Count).Select(n => n.ToString(CultureInfo.InvariantCulture))))
                        throw new ArchitectureException($"block '{Show(path)}' (ModuleList) takes its children in order: name them 0, 1, 2, ...");
                    container = new ModuleList([.. read.Select(r => r.Block)]);
                }
                else
                {
                    var dictionary = new ModuleDict();
                    foreach (var (childName, child) in read) dictionary.Add(childName, child);
                    container = dictionary;
                }
                Register(path, container); // only now: a reference to an enclosing block would be a cycle
                return container;
            }
            block = Construct(type, obj["args"] as JsonObject, children, path, depth);
            Register(path, block);
            return block;
        }

        private List<(string Name, Block Block)> ReadChildren(JsonArray? children, string path, int depth)
        {
            var result = new List<(string, Block)>();
            foreach (var entry in children ?? [])
            {
                var name = entry?["name"] is JsonValue n && n.TryGetValue<string>(out var s) && s.Length > 0 && !s.Contains('.', StringComparison.Ordinal)
                    ? s : throw new ArchitectureException($"a child of block '{Show(path)}' has no valid \"name\" (non-empty, without '.')");
                result.Add((name, Build(entry!["block"], path.Length == 0 ? name : $"{path}.{name}", depth + 1)));
            }
            return result;
        }

        private Block Construct(Type type, JsonObject? args, JsonArray? children, string path, int depth)
        {
            var constructor = ChooseConstructor(type, path);
            var parameters = constructor.GetParameters();
            var values = new object?[parameters.Length];
            var known = parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (key, _) in args ?? [])
            {
                if (!known.Contains(key)) throw new ArchitectureException($"block '{Show(path)}' ({type.Name}) has no constructor argument '{key}'; it takes {string.Join(", ", known)}");
            }
            for (int i = 0; i < parameters.Length; i++)
            {
                var p = parameters[i];
                if (p.ParameterType == typeof(Block[]))
                {
                    var built = ReadChildren(children, path, depth);
                    if (!built.Select(b => b.Name).SequenceEqual(Enumerable.Range(0, built.Count).Select(n => n.ToString(CultureInfo.InvariantCulture))))
                        throw new ArchitectureException($"block '{Show(path)}' ({type.Name}) takes its children in order: name them 0, 1, 2, ...");
                    values[i] = built.Select(b => b.Block).ToArray();
                    continue;
                }
                values[i] = args?[p.Name!] is { } value ? Convert(value, p.ParameterType, path, p.Name!)
                    : p.HasDefaultValue ? p.DefaultValue
                    : Nullable.GetUnderlyingType(p.ParameterType) is not null ? null
                    : throw new ArchitectureException($"block '{Show(path)}' ({type.Name}) needs the argument '{p.Name}'");
            }
            ChargeLayer(type, parameters, values, path);
            try
            {
                var block = (Block)constructor.Invoke(values);
                if (block.HasPendingParameters) block.Budget = budget;
                return block;
            }
            catch (TargetInvocationException e) when (e.InnerException is ArgumentException or InvalidOperationException)
            {
                throw new ArchitectureException($"block '{Show(path)}' ({type.Name}): {e.InnerException.Message}", e.InnerException);
            }
        }

        /// <summary>Charges a built-in layer's parameters and buffers to the budget before it allocates them (see <see cref="BuiltInLayers.ParameterCount"/>).</summary>
        private void ChargeLayer(Type type, ParameterInfo[] parameters, object?[] values, string path)
        {
            if (values.Any(v => v is long and < 0 || v is long[] a && a.Any(d => d < 0))) return; // the layer's constructor refuses it, naming the argument
            static string Format(object? v) => v is long[] list ? $"[{string.Join(", ", list)}]" : v?.ToString() ?? "";
            var args = string.Join(", ", parameters.Where(p => values[Array.IndexOf(parameters, p)] is long or bool or long[]).Select(p => $"{p.Name}={Format(values[Array.IndexOf(parameters, p)])}"));
            budget.Charge(BuiltInLayers.ParameterCount(type, parameters, values), () => $"block '{Show(path)}': {type.Name}({args})");
        }

        private static object? Convert(JsonNode value, Type target, string path, string name)
        {
            var type = Nullable.GetUnderlyingType(target) ?? target;
            try
            {
                // PyTorch's int-or-tuple arguments: a single number stands for a one-element list.
                return type == typeof(long[]) ? value is JsonArray list ? list.Select(v => v!.GetValue<long>()).ToArray() : [value.GetValue<long>()]
                    : type == typeof(double[]) ? value is JsonArray numbers ? numbers.Select(v => v!.GetValue<double>()).ToArray() : [value.GetValue<double>()]
                    : type == typeof(long) ? value.GetValue<long>()
                    : type == typeof(int) ? value.GetValue<int>()
                    : type == typeof(double) ? value.GetValue<double>()
                    : type == typeof(float) ? value.GetValue<float>()
                    : type == typeof(bool) ? value.GetValue<bool>()
                    : value.GetValue<string>();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new ArchitectureException($"block '{Show(path)}': argument '{name}' is {value.ToJsonString()}, not a {type.Name}", e);
            }
        }

        private void Register(string path, Block block)
        {
            if (!_byPath.TryAdd(path, block)) throw new ArchitectureException($"two blocks claim the path '{Show(path)}'");
        }

        private Type Resolve(string name, string path)
        {
            if (BuiltInLayers.Types.TryGetValue(name, out var builtIn)) return builtIn;
            foreach (var assembly in assemblies)
            {
                if (assembly.GetType(name, throwOnError: false) is { } type)
                {
                    return typeof(Block).IsAssignableFrom(type) && !type.IsAbstract
                        ? type
                        : throw new ArchitectureException($"block '{Show(path)}': type '{name}' in {assembly.GetName().Name} is not a concrete Block");
                }
            }
            throw new ArchitectureException($"block '{Show(path)}': unknown block type '{name}'; searched the built-in layers and {string.Join(", ", assemblies.Select(a => a.GetName().Name))}; pass the assembly that defines it");
        }
    }
}
