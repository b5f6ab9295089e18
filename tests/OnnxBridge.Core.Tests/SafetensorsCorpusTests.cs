using System.Buffers.Binary;
using System.Text;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Hostile and broken safetensors files, generated here (never downloaded): every one must give a
/// <see cref="SafetensorsException"/> — no other exception, no crash, no hang — and the reader may
/// never allocate much more than the file's size, whatever sizes the header claims.
/// </summary>
[TestClass]
public sealed class SafetensorsCorpusTests
{
    private const string Good = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}}";

    private static byte[] File(string header, int dataBytes = 40, ulong? declaredLength = null) =>
        File(Encoding.UTF8.GetBytes(header), dataBytes, declaredLength);

    private static byte[] File(byte[] header, int dataBytes = 40, ulong? declaredLength = null)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 8 + header.Length; i < bytes.Length; i++) bytes[i] = (byte)i;
        return bytes;
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    /// <summary>The malformed files, each with a label saying what is wrong with it.</summary>
    private static IEnumerable<(string Label, byte[] Bytes)> Corpus()
    {
        var good = File(Good);
        // Truncated at 96 points, from the empty file to one byte short.
        for (int i = 0; i < 96; i++)
        {
            var length = (int)((long)i * (good.Length - 1) / 95);
            yield return ($"truncated to {length} bytes", good[..length]);
        }
        // The 8-byte header length, lying.
        foreach (var declared in new ulong[] { 0, 1, 7, (ulong)Good.Length + 1, (ulong)good.Length, 100_000_001, long.MaxValue, ulong.MaxValue })
            yield return ($"header length {declared}", File(Good, declaredLength: declared));
        // Headers that are not what they should be.
        var headers = new (string Label, string Header)[]
        {
            ("empty header", ""),
            ("unclosed object", "{"),
            ("array header", "[]"),
            ("null header", "null"),
            ("string header", "\"w\""),
            ("entry not an object", "{\"w\":1}"),
            ("missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}"),
            ("dtype a number", "{\"w\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}"),
            ("unknown dtype", "{" + Entry("w", "F8", "[1]", "[0,4]") + "}"),
            ("shape missing", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}"),
            ("shape a string", "{" + Entry("w", "F32", "\"1\"", "[0,4]") + "}"),
            ("shape with a string", "{" + Entry("w", "F32", "[\"1\"]", "[0,4]") + "}"),
            ("negative dimension", "{" + Entry("w", "F32", "[-1]", "[0,4]") + "}"),
            ("fractional dimension", "{" + Entry("w", "F32", "[1.5]", "[0,4]") + "}"),
            ("gigantic dimensions", "{" + Entry("w", "F32", "[4611686018427387904,4611686018427387904]", "[0,40]") + "}"),
            ("dimension beyond int64", "{" + Entry("w", "F32", "[99999999999999999999]", "[0,40]") + "}"),
            ("65 dimensions", "{" + Entry("w", "F32", "[" + string.Join(",", Enumerable.Repeat(1, 65)) + "]", "[0,4]") + "}"),
            ("offsets missing", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}"),
            ("one offset", "{" + Entry("w", "F32", "[1]", "[0]") + "}"),
            ("three offsets", "{" + Entry("w", "F32", "[1]", "[0,4,8]") + "}"),
            ("reversed offsets", "{" + Entry("w", "F32", "[1]", "[4,0]") + "}"),
            ("negative offset", "{" + Entry("w", "F32", "[1]", "[-4,0]") + "}"),
            ("end beyond the buffer", "{" + Entry("w", "F32", "[20]", "[0,80]") + "}"),
            ("dtype and size disagree", "{" + Entry("w", "F32", "[3]", "[0,40]") + "}"),
            ("F64 size disagrees", "{" + Entry("w", "F64", "[2]", "[0,40]") + "}"),
            ("overlapping tensors", "{" + Entry("a", "F32", "[6]", "[0,24]") + "," + Entry("b", "F32", "[6]", "[16,40]") + "}"),
            ("hole between tensors", "{" + Entry("a", "F32", "[4]", "[0,16]") + "," + Entry("b", "F32", "[4]", "[24,40]") + "}"),
            ("hole at the start", "{" + Entry("a", "F32", "[8]", "[8,40]") + "}"),
            ("bytes after the last tensor", "{" + Entry("a", "F32", "[2]", "[0,8]") + "}"),
            ("duplicate names", "{" + Entry("a", "F32", "[5]", "[0,20]") + "," + Entry("a", "F32", "[5]", "[20,40]") + "}"),
            ("metadata not an object", "{\"__metadata__\":[1]," + Entry("a", "F32", "[10]", "[0,40]") + "}"),
            ("metadata value a number", "{\"__metadata__\":{\"a\":1}," + Entry("a", "F32", "[10]", "[0,40]") + "}"),
            ("offsets as strings", "{" + Entry("a", "F32", "[10]", "[\"0\",\"40\"]") + "}"),
            ("deep nesting", "{\"a\":" + new string('[', 5000) + new string(']', 5000) + "}"),
            ("trailing garbage", Good + "x"),
            ("two objects", Good + "{}"),
            ("comment", "/*c*/" + Good),
        };
        foreach (var (label, header) in headers) yield return (label, File(header));
        yield return ("invalid UTF-8", File([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']));
        yield return ("lone surrogate escape in a name", File("{\"\\uD800\":{\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[0,40]},\"__metadata__\":1}"));
    }

    [TestMethod]
    public void MalformedFiles_AllGiveSafetensorsException_WithBoundedMemory()
    {
        var corpus = Corpus().ToList();

        Assert.IsTrue(corpus.Count >= 100, $"the corpus has {corpus.Count} files");
        MalformedFiles.AssertAllRejected<SafetensorsException>(corpus, ".safetensors", path => Safetensors.Read(path));
    }

    [TestMethod]
    public void GoodFile_OfTheCorpus_Loads()
    {
        using var temp = new TempFolder();
        System.IO.File.WriteAllBytes(temp.File("good.safetensors"), File(Good));

        var (tensors, metadata) = Safetensors.Read(temp.File("good.safetensors"));

        CollectionAssert.AreEqual(new[] { "w", "b" }, tensors.Select(t => t.Name).ToArray());
        Assert.AreEqual("pt", metadata["format"]);
    }

    [TestMethod]
    public void RandomByteFlips_LoadOrFailTyped_NeverAnythingElse()
    {
        using var temp = new TempFolder();
        var good = File(Good);
        var random = new Random(1234);
        var outcomes = new Dictionary<string, int>();

        for (int i = 0; i < 300; i++)
        {
            var bytes = (byte[])good.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            System.IO.File.WriteAllBytes(temp.File("flip.safetensors"), bytes);
            string outcome;
            try
            {
                Safetensors.Read(temp.File("flip.safetensors"));
                outcome = "loaded";
            }
            catch (SafetensorsException)
            {
                outcome = "SafetensorsException";
            }
            catch (Exception e)
            {
                outcome = $"{e.GetType().Name} (flip {i}): {e.Message}";
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        CollectionAssert.IsSubsetOf(outcomes.Keys.ToArray(), new[] { "loaded", "SafetensorsException" }, string.Join("\n", outcomes.Keys));
    }

    [TestMethod]
    public void ExtremeHostTensorShapes_FromAValidHeader_AreRejectedBeforeAllocation()
    {
        // Zero-element tensors are legal and cost nothing.
        using var temp = new TempFolder();
        System.IO.File.WriteAllBytes(temp.File("empty.safetensors"), File("{" + Entry("e", "F32", "[0,1000000000]", "[0,0]") + "}", dataBytes: 0));

        var (tensors, _) = Safetensors.Read(temp.File("empty.safetensors"));

        Assert.AreEqual(0L, tensors[0].Tensor.ElementCount);
        CollectionAssert.AreEqual(new long[] { 0, 1_000_000_000 }, tensors[0].Tensor.Shape.ToArray());
    }
}
