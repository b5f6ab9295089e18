using System.Text;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Training.History;
using ScottPlot;

namespace OnnxBridge.Training.Plots;

/// <summary>
/// Learning curves from a <see cref="TrainingHistory"/>: loss (train and validation) and, when the
/// loss has one, accuracy, each as PNG and SVG with labelled axes and a legend.
/// </summary>
public static class TrainingPlots
{
    /// <summary>Pixel size of the images.</summary>
    public const int Width = 800, Height = 500;

    /// <summary>Writes <c>loss.png</c>, <c>loss.svg</c> and, with accuracies, <c>accuracy.png</c>, <c>accuracy.svg</c> into <paramref name="folder"/> atomically; returns their paths.</summary>
    public static IReadOnlyList<string> Save(TrainingHistory history, string folder, string title = "")
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(folder);
        if (history.Epochs.Count == 0) throw new ArgumentException("the history has no epochs to plot", nameof(history));
        Directory.CreateDirectory(folder);
        var epochs = history.Epochs;
        var written = new List<string>();
        written.AddRange(Write(folder, "loss", Curves(title, "loss", "Loss", Alignment.UpperRight,
            ("train", epochs.Select(e => (double?)e.TrainLoss)), ("validation", epochs.Select(e => e.ValidationLoss)))));
        if (epochs.Any(e => e.TrainAccuracy is not null))
        {
            written.AddRange(Write(folder, "accuracy", Curves(title, "accuracy", "Accuracy (%)", Alignment.LowerRight,
                ("train", epochs.Select(e => e.TrainAccuracy * 100)), ("validation", epochs.Select(e => e.ValidationAccuracy * 100)))));
        }
        return written;
    }

    /// <summary>The font every label uses: DejaVu Sans, shipped in <c>fonts/</c> beside the program.</summary>
    public const string FontName = "DejaVu Sans";

    private static readonly Lazy<bool> FontsRegistered = new(RegisterFonts);

    /// <summary>
    /// Registers the bundled font, so plots look the same everywhere and have labels on machines
    /// without system fonts (SkiaSharp would silently draw no text there).
    /// </summary>
    private static bool RegisterFonts()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "fonts");
        foreach (var (file, bold) in new[] { ("DejaVuSans.ttf", false), ("DejaVuSans-Bold.ttf", true) })
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path)) throw new FileNotFoundException($"the plot font {path} is missing; it ships with OnnxBridge.Training (Plots/Fonts)", path);
            Fonts.AddFontFile(FontName, path, bold, italic: false);
        }
        return true;
    }

    private static Plot Curves(string title, string what, string yLabel, Alignment legend, params (string Name, IEnumerable<double?> Values)[] series)
    {
        _ = FontsRegistered.Value;
        var plot = new Plot();
        var palette = new[] { Colors.C0, Colors.C1 };
        int index = 0;
        foreach (var (name, values) in series)
        {
            var points = values.Select((v, i) => (Epoch: i + 1.0, Value: v)).Where(p => p.Value is not null).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.Epoch).ToArray(), points.Select(p => p.Value!.Value).ToArray(), palette[index++ % palette.Length]);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }
        plot.Title(title.Length > 0 ? $"{title}: {what}" : what);
        plot.XLabel("Epoch");
        plot.YLabel(yLabel);
        plot.Axes.SetLimitsX(0.5, series.Max(s => s.Values.Count()) + 0.5); // epochs run from 1
        plot.Font.Set(FontName);
        plot.ShowLegend(legend); // loss falls and accuracy rises: keep the legend off the curves' ends
        return plot;
    }

    private static IEnumerable<string> Write(string folder, string name, Plot plot)
    {
        var png = Path.Combine(folder, name + ".png");
        var svg = Path.Combine(folder, name + ".svg");
        AtomicFile.WriteAllBytes(png, plot.GetImageBytes(Width, Height, ImageFormat.Png));
        AtomicFile.WriteAllBytes(svg, Encoding.UTF8.GetBytes(plot.GetSvgXml(Width, Height)));
        return [png, svg];
    }
}
