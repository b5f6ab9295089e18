using System.Globalization;
using System.IO.Compression;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Data;

/// <summary>What the target column of a CSV holds.</summary>
public enum TargetKind
{
    /// <summary>Class indices 0..K-1 (int64 targets, for cross-entropy).</summary>
    ClassIndex,

    /// <summary>Real values (float32 targets [rows, 1], for MSE or BCE).</summary>
    Real,
}

/// <summary>
/// Loads numeric CSV files (optionally gzip-compressed, by the <c>.gz</c> extension) into a
/// <see cref="TensorDataset"/>: every column is a float32 feature except the target column. A first
/// line that is not all numbers is a header and is skipped (scikit-learn's data files start with one).
/// </summary>
public static class CsvDataset
{
    /// <summary>Refuses files with more rows than this.</summary>
    public const int MaxRows = 10_000_000;

    /// <summary>Refuses files with more numbers than this in all (2^28: 1 GiB as float32), however the rows are shaped.</summary>
    public const long MaxValues = 1L << 28;

    /// <summary>Refuses lines longer than this many characters (1 MiB), before holding them.</summary>
    public const int MaxLineLength = 1 << 20;

    /// <summary>
    /// Refuses class indices above this: the output layer is sized from the largest, so an index of
    /// 10⁹ would ask for billions of parameters. ImageNet-21k has 21,841 classes.
    /// </summary>
    public const int MaxClassIndex = 100_000;

    /// <summary>Reads <paramref name="path"/>; <paramref name="targetColumn"/> counts from 0, negative from the end (−1: last).</summary>
    /// <exception cref="DatasetException">A value is not a number, a row has a different column count, a class index is not a whole number in [0, <see cref="MaxClassIndex"/>], or the file passes a bound; the message names the file, line and column.</exception>
    public static TensorDataset Load(string path, int targetColumn = -1, TargetKind target = TargetKind.ClassIndex)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {path}", path);
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);

        var features = new List<float>();
        var targets = new List<float>();
        int columns = -1, column = -1, rows = 0, lineNumber = 0;
        string? line;
        while ((line = ReadLine(reader, path, lineNumber + 1)) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            if (columns < 0)
            {
                if (fields.Any(f => !IsNumber(f))) continue; // header
                columns = fields.Length;
                if (columns < 2) throw new DatasetException($"{path}: line {lineNumber} has {columns} column; a dataset needs at least one feature and a target");
                column = targetColumn < 0 ? columns + targetColumn : targetColumn;
                if (column < 0 || column >= columns) throw new DatasetException($"{path}: target column {targetColumn} does not exist; the rows have {columns} columns");
            }
            if (fields.Length != columns) throw new DatasetException($"{path}: line {lineNumber} has {fields.Length} columns, the first data line had {columns}");
            if (++rows > MaxRows) throw new DatasetException($"{path}: more than {MaxRows} rows");
            if ((long)rows * columns > MaxValues) throw new DatasetException($"{path}: line {lineNumber}: more than {MaxValues} numbers in all");
            for (int i = 0; i < columns; i++)
            {
                if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
                    throw new DatasetException($"{path}: line {lineNumber}, column {i + 1}: '{fields[i]}' is not a finite number");
                if (i != column) features.Add(value);
                else if (target == TargetKind.ClassIndex && (value < 0 || value != MathF.Floor(value) || value > MaxClassIndex))
                    throw new DatasetException($"{path}: line {lineNumber}, column {i + 1}: class index '{fields[i]}' is not a whole number in [0, {MaxClassIndex}]");
                else targets.Add(value);
            }
        }
        if (rows == 0) throw new DatasetException($"{path}: no data rows");

        var x = tensor(features.ToArray(), [rows, columns - 1]);
        var y = target == TargetKind.ClassIndex
            ? tensor(targets.Select(v => (long)v).ToArray(), [rows])
            : tensor(targets.ToArray(), [rows, 1]);
        return new TensorDataset(x, y);
    }

    /// <summary>StreamReader.ReadLine with a length bound: a file of one endless line must not fill memory first.</summary>
    private static string? ReadLine(StreamReader reader, string path, int lineNumber)
    {
        var line = new System.Text.StringBuilder();
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (c == '\n') return line.ToString();
            if (c == '\r')
            {
                if (reader.Peek() == '\n') reader.Read();
                return line.ToString();
            }
            if (line.Length == MaxLineLength) throw new DatasetException($"{path}: line {lineNumber} is longer than {MaxLineLength} characters");
            line.Append((char)c);
        }
        return line.Length > 0 ? line.ToString() : null;
    }

    private static bool IsNumber(string field) => double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
