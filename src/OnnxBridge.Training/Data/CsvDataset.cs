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

    /// <summary>Reads <paramref name="path"/>; <paramref name="targetColumn"/> counts from 0, negative from the end (−1: last).</summary>
    /// <exception cref="FormatException">A value is not a number, a row has a different column count, or a class index is not a whole number ≥ 0; the message names the file, line and column.</exception>
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
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            if (columns < 0)
            {
                if (fields.Any(f => !IsNumber(f))) continue; // header
                columns = fields.Length;
                if (columns < 2) throw new FormatException($"{path}: line {lineNumber} has {columns} column; a dataset needs at least one feature and a target");
                column = targetColumn < 0 ? columns + targetColumn : targetColumn;
                if (column < 0 || column >= columns) throw new FormatException($"{path}: target column {targetColumn} does not exist; the rows have {columns} columns");
            }
            if (fields.Length != columns) throw new FormatException($"{path}: line {lineNumber} has {fields.Length} columns, the first data line had {columns}");
            if (++rows > MaxRows) throw new FormatException($"{path}: more than {MaxRows} rows");
            for (int i = 0; i < columns; i++)
            {
                if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
                    throw new FormatException($"{path}: line {lineNumber}, column {i + 1}: '{fields[i]}' is not a finite number");
                if (i != column) features.Add(value);
                else if (target == TargetKind.ClassIndex && (value < 0 || value != MathF.Floor(value)))
                    throw new FormatException($"{path}: line {lineNumber}, column {i + 1}: class index '{fields[i]}' is not a whole number >= 0");
                else targets.Add(value);
            }
        }
        if (rows == 0) throw new FormatException($"{path}: no data rows");

        var x = tensor(features.ToArray(), [rows, columns - 1]);
        var y = target == TargetKind.ClassIndex
            ? tensor(targets.Select(v => (long)v).ToArray(), [rows])
            : tensor(targets.ToArray(), [rows, 1]);
        return new TensorDataset(x, y);
    }

    private static bool IsNumber(string field) => double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
