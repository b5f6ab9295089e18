using System.IO.Compression;
using OnnxBridge.Training.Data;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Tests;

[TestClass]
[DoNotParallelize]
public sealed class DataTests
{
    [TestMethod]
    public void CsvDataset_HeaderAndGzip_LoadsFeaturesAndClassIndices()
    {
        using var temp = new TempFolder();
        var path = temp.File("iris-like.csv.gz");
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var writer = new StreamWriter(gzip))
            writer.Write("3,2,setosa,versicolor\n5.1,3.5,0\n4.9,3.0,1\n\n6.2,2.9,1\n");

        using var data = CsvDataset.Load(path);

        CollectionAssert.AreEqual(new long[] { 3, 2 }, data.Features.shape);
        CollectionAssert.AreEqual(new[] { 5.1f, 3.5f, 4.9f, 3.0f, 6.2f, 2.9f }, data.Features.data<float>().ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 1 }, data.Targets.data<long>().ToArray());
    }

    [TestMethod]
    [DataRow("1,2,0\n1,x,1\n", "line 2, column 2: 'x' is not a finite number")]
    [DataRow("1,2,0\n1,2\n", "line 2 has 2 columns, the first data line had 3")]
    [DataRow("1,2,0.5\n", "line 1, column 3: class index '0.5' is not a whole number in [0, 100000]")]
    [DataRow("1,2,-1\n", "class index '-1' is not a whole number in [0, 100000]")]
    [DataRow("a,b,c\n", "no data rows")]
    [DataRow("1,NaN,0\n", "'NaN' is not a finite number")]
    [DataRow("1,2,1000000000\n", "class index '1000000000' is not a whole number in [0, 100000]")]
    public void CsvDataset_BadFile_NamesFileLineAndValue(string content, string expected)
    {
        using var temp = new TempFolder();
        var path = temp.File("bad.csv");
        File.WriteAllText(path, content);

        var error = Assert.ThrowsExactly<DatasetException>(() => CsvDataset.Load(path));

        StringAssert.StartsWith(error.Message, path + ": ");
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    public void CsvDataset_EndlessLineOrTooManyValues_IsRefusedBeforeHoldingIt()
    {
        using var temp = new TempFolder();
        // 4 MiB of "0," without a line break: refused at 1 MiB, not read whole into one string.
        File.WriteAllText(temp.File("one-line.csv"), string.Concat(Enumerable.Repeat("0,", 2 << 20)));

        var error = Assert.ThrowsExactly<DatasetException>(() => CsvDataset.Load(temp.File("one-line.csv")));

        StringAssert.Contains(error.Message, $"{temp.File("one-line.csv")}: line 1 is longer than {CsvDataset.MaxLineLength} characters");
    }

    [TestMethod]
    public void Split_SameSeed_SameDisjointPartsCoveringEveryRow()
    {
        using var data = new TensorDataset(arange(100, ScalarType.Float32).reshape(100, 1), arange(100, ScalarType.Int64));

        var (train, validation, test) = data.Split(0.1, 0.2, seed: 5);
        var (train2, _, test2) = data.Split(0.1, 0.2, seed: 5);
        var (_, _, otherTest) = data.Split(0.1, 0.2, seed: 6);

        Assert.AreEqual((70L, 10L, 20L), (train.Count, validation.Count, test.Count));
        var rows = new[] { train, validation, test }.SelectMany(d => d.Targets.data<long>().ToArray()).Order().ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, 100).Select(i => (long)i).ToArray(), rows, "the parts are disjoint and cover every row");
        CollectionAssert.AreEqual(test.Targets.data<long>().ToArray(), test2.Targets.data<long>().ToArray());
        CollectionAssert.AreEqual(train.Targets.data<long>().ToArray(), train2.Targets.data<long>().ToArray());
        CollectionAssert.AreNotEqual(test.Targets.data<long>().ToArray(), otherTest.Targets.data<long>().ToArray());
        CollectionAssert.AreEqual(train.Targets.data<long>().ToArray(), train.Features.data<float>().ToArray().Select(f => (long)f).ToArray(), "rows stay paired");
    }

    [TestMethod]
    public void Batches_ShuffleDependsOnSeedAndEpochOnly()
    {
        using var data = new TensorDataset(arange(10, ScalarType.Float32).reshape(10, 1), arange(10, ScalarType.Int64));
        long[] Order(int seed, int epoch) => [.. Batches.Of(data, 4, shuffle: true, seed, epoch).SelectMany(b => b.Targets.data<long>().ToArray())];

        CollectionAssert.AreEqual(Order(1, 3), Order(1, 3));
        CollectionAssert.AreNotEqual(Order(1, 3), Order(1, 4));
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 10).Select(i => (long)i).ToArray(), Order(1, 3));
        CollectionAssert.AreEqual(new[] { 4, 4, 2 }, Batches.Of(data, 4, shuffle: false).Select(b => (int)b.Features.shape[0]).ToArray());
    }
}
