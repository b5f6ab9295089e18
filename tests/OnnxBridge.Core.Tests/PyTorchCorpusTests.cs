using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Hostile and broken PyTorch files, generated here: each must give a
/// <see cref="PyTorchFileException"/>, never another exception, never run anything, and never make
/// the reader allocate much more than the file's size.
/// </summary>
[TestClass]
public sealed class PyTorchCorpusTests
{
    private static readonly string Marker = Path.Combine(Path.GetTempPath(), $"onnxbridge-pickle-ran-{Guid.NewGuid():N}");

    /// <summary>A pickle from opcodes written as text (ASCII opcodes, with helpers for binary arguments).</summary>
    private sealed class P
    {
        private readonly MemoryStream _out = new();

        public P() => Raw(0x80, 2);

        public P Raw(params byte[] bytes) { _out.Write(bytes); return this; }

        public P Op(char op) => Raw((byte)op);

        public P Global(string module, string name) { Op('c'); _out.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); return this; }

        public P Str(string s, uint? claimedLength = null)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Op('X');
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, claimedLength ?? (uint)bytes.Length);
            _out.Write(length);
            _out.Write(bytes);
            return this;
        }

        public P Int(int v)
        {
            Op('J');
            var b = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, v);
            _out.Write(b);
            return this;
        }

        /// <summary>_rebuild_tensor_v2(storage(key, numel), offset, shape, stride, False, OrderedDict()).</summary>
        public P Tensor(string key, int numel, int offset, int[] shape, int[] stride, string storage = "FloatStorage")
        {
            Global("torch._utils", "_rebuild_tensor_v2").Op('(');
            Op('(').Str("storage").Global("torch", storage).Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
            Int(offset);
            Op('('); foreach (var d in shape) Int(d); Op('t');
            Op('('); foreach (var s in stride) Int(s); Op('t');
            Raw(0x89).Global("collections", "OrderedDict").Op(')').Op('R');
            return Op('t').Op('R');
        }

        public P Long(long v)
        {
            Raw(0x8a, 8);
            var b = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(b, v);
            _out.Write(b);
            return this;
        }

        /// <summary>A tensor whose one stride is a 64-bit integer.</summary>
        public P TensorWithStride(string key, int numel, int size, long stride)
        {
            Global("torch._utils", "_rebuild_tensor_v2").Op('(');
            Op('(').Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
            Int(0).Op('(').Int(size).Op('t').Op('(').Long(stride).Op('t');
            Raw(0x89).Global("collections", "OrderedDict").Op(')').Op('R');
            return Op('t').Op('R');
        }

        public P Dict(Action<P> items) { Global("collections", "OrderedDict").Op(')').Op('R').Op('('); items(this); return Op('u'); }

        public byte[] Stop() { Op('.'); return _out.ToArray(); }
    }

    private static byte[] Zip(byte[] pickle, params (string Name, byte[] Data)[] records) => Zip(pickle, CompressionLevel.NoCompression, records);

    private static byte[] Zip(byte[]? pickle, CompressionLevel level, params (string Name, byte[] Data)[] records)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            if (pickle is not null) Add(zip, "archive/data.pkl", pickle, level);
            foreach (var (name, data) in records) Add(zip, "archive/" + name, data, level);
        }
        return stream.ToArray();
    }

    private static void Add(ZipArchive zip, string name, byte[] data, CompressionLevel level)
    {
        using var s = zip.CreateEntry(name, level).Open();
        s.Write(data);
    }

    private static byte[] Floats(int count) => new byte[count * 4];

    private static byte[] ValidFile() =>
        Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [2, 3], [3, 1])).Stop(), ("data/0", Floats(6)), ("version", "3\n"u8.ToArray()));

    private static IEnumerable<(string Label, byte[] Bytes)> Corpus()
    {
        var valid = ValidFile();
        for (int i = 0; i < 60; i++)
        {
            var length = (int)((long)i * (valid.Length - 1) / 59);
            yield return ($"truncated to {length} bytes", valid[..length]);
        }
        yield return ("not a zip", "hello, world"u8.ToArray());
        yield return ("legacy (pre-1.6) pickle file", new P().Dict(_ => { }).Stop());
        yield return ("zip without data.pkl", Zip(null, CompressionLevel.NoCompression, ("data/0", Floats(6))));
        yield return ("two data.pkl", Zip(new P().Dict(_ => { }).Stop(), ("x/data.pkl", new P().Dict(_ => { }).Stop())));
        yield return ("os.system in the pickle", Zip(new P().Global("os", "system").Str($"touch {Marker}").Raw(0x85).Op('R').Stop()));
        yield return ("builtins.eval in the pickle", Zip(new P().Global("builtins", "eval").Str($"open('{Marker}','w')").Raw(0x85).Op('R').Stop()));
        yield return ("posix.system via STACK_GLOBAL", Zip(new P().Str("posix").Str("system").Raw(0x93).Str($"touch {Marker}").Raw(0x85).Op('R').Stop()));
        yield return ("subprocess.Popen", Zip(new P().Global("subprocess", "Popen").Op(')').Op('R').Stop()));
        yield return ("torch.load re-entered", Zip(new P().Global("torch", "load").Op(')').Op('R').Stop()));
        yield return ("INST opcode", Zip(new P().Op('(').Raw(Encoding.ASCII.GetBytes("ios\nsystem\n")).Stop()));
        yield return ("OBJ opcode", Zip(new P().Op('(').Global("os", "system").Op('o').Stop()));
        yield return ("storage larger than its record", Zip(new P().Dict(p => p.Str("w").Tensor("0", 1_000_000_000, 0, [1_000_000_000], [1])).Stop(), ("data/0", Floats(6))));
        yield return ("view beyond its storage", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 4, [2, 3], [3, 1])).Stop(), ("data/0", Floats(6))));
        yield return ("negative dimension", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [-2, 3], [3, 1])).Stop(), ("data/0", Floats(6))));
        yield return ("negative stride", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [2, 3], [-3, 1])).Stop(), ("data/0", Floats(6))));
        yield return ("negative offset", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, -1, [2, 3], [3, 1])).Stop(), ("data/0", Floats(6))));
        yield return ("gigantic view", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [int.MaxValue, int.MaxValue], [0, 0])).Stop(), ("data/0", Floats(6))));
        yield return ("missing storage record", Zip(new P().Dict(p => p.Str("w").Tensor("7", 6, 0, [2, 3], [3, 1])).Stop(), ("data/0", Floats(6))));
        yield return ("unknown storage class", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [2, 3], [3, 1], "QUInt8Storage")).Stop(), ("data/0", Floats(6))));
        yield return ("string length beyond the pickle", Zip(new P().Str("abc", claimedLength: 2_000_000_000).Stop()));
        yield return ("unknown opcode", Zip(new P().Raw(0xff).Stop()));
        yield return ("no STOP", Zip(new P().Dict(_ => { }).Stop()[..^1]));
        yield return ("empty pickle", Zip([]));
        yield return ("pop from an empty stack", Zip(new P().Op('t').Stop()));
        yield return ("SETITEMS without MARK", Zip(new P().Op('}').Op('u').Stop()));
        yield return ("memo never stored", Zip(new P().Raw((byte)'h', 5).Stop()));
        yield return ("two values at STOP", Zip(new P().Op('N').Op('N').Stop()));
        yield return ("a number at the root", Zip(new P().Int(3).Stop()));
        yield return ("dict with an integer key", Zip(new P().Op('}').Int(1).Op('N').Op('s').Stop()));
        yield return ("persistent id not a tuple", Zip(new P().Str("x").Op('Q').Stop()));
        yield return ("persistent id of the wrong kind", Zip(new P().Op('(').Str("module").Op('t').Op('Q').Stop()));
        yield return ("REDUCE on a string", Zip(new P().Str("x").Op(')').Op('R').Stop()));
        yield return ("deflate bomb record", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [2, 3], [3, 1])).Stop(), CompressionLevel.Optimal, ("data/0", new byte[64 * 1024 * 1024])));
        yield return ("a dict of a dict (a checkpoint)", Zip(new P().Dict(p => p.Str("model").Dict(_ => { })).Stop()));
        yield return ("LONG1 of 9 bytes", Zip(new P().Raw(0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9).Stop()));
        yield return ("deep MARK nesting", Zip(new P().Raw([.. Enumerable.Repeat((byte)'(', 100_000)]).Stop()));
        // These three used to crash the process (stack overflow) or run for minutes.
        yield return ("a list that contains itself", Zip([0x80, 0x02, (byte)']', (byte)'q', 0, (byte)'h', 0, (byte)'a', (byte)'.']));
        yield return ("lists nested 100,000 deep", Zip(new P().Raw([.. Enumerable.Repeat((byte)']', 100_000), .. Enumerable.Repeat((byte)'a', 99_999)]).Stop()));
        yield return ("lists nested 40 deep", Zip(new P().Raw([.. Enumerable.Repeat((byte)']', 40), .. Enumerable.Repeat((byte)'a', 39)]).Stop()));
        yield return ("9-level memo bomb (10^9 entries)", Zip(MemoBomb(levels: 9)));
        yield return ("stride 2^62 wrapping around", Zip(new P().Dict(p => p.Str("w").TensorWithStride("0", 6, 5, 1L << 62)).Stop(), ("data/0", Floats(6))));
        // Differential reads: one reader would take the first record, another the last.
        yield return ("storage record given twice", Zip(new P().Dict(p => p.Str("w").Tensor("0", 6, 0, [2, 3], [3, 1])).Stop(), ("data/0", Floats(6)), ("data/0", [.. Enumerable.Repeat((byte)0x3f, 24)])));
        yield return ("records flagged encrypted", FlagEncrypted(ValidFile()));
    }

    /// <summary>Sets the "encrypted" bit in every local and central zip header (the data stays readable, as a hostile file's could).</summary>
    private static byte[] FlagEncrypted(byte[] zip)
    {
        var bytes = (byte[])zip.Clone();
        for (int i = 0; i + 10 < bytes.Length; i++)
        {
            if (bytes[i] != 'P' || bytes[i + 1] != 'K') continue;
            if (bytes[i + 2] == 3 && bytes[i + 3] == 4) bytes[i + 6] |= 1;      // local file header: flags at +6
            else if (bytes[i + 2] == 1 && bytes[i + 3] == 2) bytes[i + 8] |= 1; // central directory header: flags at +8
        }
        return bytes;
    }

    /// <summary>A root list holding L0..Ln, where L(k) holds ten references to L(k-1): a few hundred bytes standing for 10^n entries.</summary>
    private static byte[] MemoBomb(int levels)
    {
        var p = new P().Op(']').Op('(').Op(']').Raw((byte)'q', 0);
        for (byte level = 1; level <= levels; level++)
        {
            p.Op(']').Op('(');
            for (int i = 0; i < 10; i++) p.Raw((byte)'h', (byte)(level - 1));
            p.Op('e').Raw((byte)'q', level);
        }
        return p.Op('e').Stop();
    }

    [TestMethod]
    [DataRow("a list that contains itself", "a list or dict contains itself")]
    [DataRow("lists nested 100,000 deep", "the pickle stack grows beyond 10,000 entries")]
    [DataRow("lists nested 40 deep", "nest deeper than 32 levels")]
    [DataRow("9-level memo bomb (10^9 entries)", "expands to more than 1,000,000 entries")]
    [DataRow("stride 2^62 wrapping around", "reaches past any storage")]
    [DataRow("storage record given twice", "record 'archive/data/0' appears twice")]
    [DataRow("records flagged encrypted", "is encrypted")]
    public void HostilePickle_IsRefusedQuicklyNamingTheProblem(string label, string problem)
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("hostile.pt"), Corpus().Single(c => c.Label == label).Bytes);

        var error = Assert.ThrowsExactly<PyTorchFileException>(() => StateDicts.Read(temp.File("hostile.pt")));

        StringAssert.Contains(error.Message, problem);
        StringAssert.Contains(error.Message, temp.File("hostile.pt"));
    }

    [TestMethod]
    public void MalformedFiles_AllGivePyTorchFileException_RunNothing_BoundedMemory()
    {
        var corpus = Corpus().ToList();

        Assert.IsTrue(corpus.Count >= 90, $"the corpus has {corpus.Count} files");
        MalformedFiles.AssertAllRejected<PyTorchFileException>(corpus, ".pt", path => StateDicts.Read(path), slackBytes: 4 * 1024 * 1024);
        Assert.IsFalse(File.Exists(Marker), "a pickle in the corpus ran code");
    }

    [TestMethod]
    public void MalformedFiles_LoadedIntoABlock_AreRefused_BoundedMemory_AndChangeNothing()
    {
        // The load path reads whole-storage tensors lazily from their records: the same corpus through it,
        // into a block whose one parameter 'w' [2, 3] matches what most of the corpus claims to hold.
        var block = new OneParameter();
        var before = block.W.detach().clone();
        var corpus = Corpus().ToList();

        MalformedFiles.AssertAllRejected<SerializationException>(corpus, ".pt", path => StateDicts.Load(block, path), slackBytes: 4 * 1024 * 1024);
        Assert.IsTrue(block.W.equal(before).all().item<bool>(), "a refused load changed the parameter");
        Assert.IsFalse(File.Exists(Marker), "a pickle in the corpus ran code");
    }

    private sealed class OneParameter : Core.Blocks.Block
    {
        public OneParameter() : base(nameof(OneParameter)) => W = RegisterParameter("w", TorchSharp.torch.randn(2, 3));

        public TorchSharp.Modules.Parameter W { get; }

        protected override Core.Values.Value Forward(Core.Values.Value input) => input;
    }

    [TestMethod]
    public void PickleCallingOsSystem_IsRefusedNamingTheGlobal()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("evil.pt"), Zip(new P().Global("os", "system").Str($"touch {Marker}").Raw(0x85).Op('R').Stop()));

        var error = Assert.ThrowsExactly<PyTorchFileException>(() => StateDicts.Read(temp.File("evil.pt")));

        StringAssert.Contains(error.Message, "global 'os.system' is not allowed");
        Assert.IsFalse(File.Exists(Marker));
    }

    [TestMethod]
    public void ValidFileOfTheCorpus_Loads()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("good.pt"), ValidFile());

        var state = StateDicts.Read(temp.File("good.pt"));

        Assert.AreEqual("w", state.Single().Key);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, state[0].Tensor.Shape.ToArray());
    }

    [TestMethod]
    public void TruncatedWrittenFile_FailsTyped()
    {
        using var temp = new TempFolder();
        TensorFiles.Save(temp.File("x.pt"), arange(100, ScalarType.Float32));
        var bytes = File.ReadAllBytes(temp.File("x.pt"));
        File.WriteAllBytes(temp.File("cut.pt"), bytes[..(bytes.Length / 2)]);

        Assert.ThrowsExactly<PyTorchFileException>(() => TensorFiles.Load(temp.File("cut.pt")));
    }
}
