using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Prints the way the chapter's notebook cells do.</summary>
internal static class Print
{
    public static string Shape(Tensor t) => "torch.Size([" + string.Join(", ", t.shape) + "])";

    public static string Values(Tensor t) => t.ToString(TorchSharp.TensorStringStyle.Numpy, fltFormat: "0.####", width: 120);

    public static void Heading(TextWriter output, string title)
    {
        output.WriteLine();
        output.WriteLine("== " + title + " " + new string('=', Math.Max(0, 70 - title.Length)));
    }
}
