using System.Globalization;
using System.Text.Json.Nodes;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host.Tests;

/// <summary>Inference request bodies and the direct ONNX Runtime runs they are compared with.</summary>
internal static class Requests
{
    /// <summary>Deterministic MLP inputs: <paramref name="rows"/> rows of 8 floats.</summary>
    public static float[] Rows(int rows, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows * 8).Select(_ => (float)(random.NextDouble() * 4 - 2))];
    }

    public static string Json(float[] values, int rows, string? id = null, string extra = "")
    {
        var data = string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        var idPart = id is null ? "" : $"\"id\":\"{id}\",";
        return $"{{{idPart}\"inputs\":[{{\"name\":\"input\",\"shape\":[{rows},8],\"datatype\":\"FP32\",\"data\":[{data}]}}]{extra}}}";
    }

    /// <summary>The output ONNX Runtime gives for the same rows, in-process.</summary>
    public static float[] Direct(byte[] model, float[] values, int rows)
    {
        using var session = OnnxModelSession.Open(model);
        var output = session.Run([new NamedTensor("input", HostTensor.Create<float>(values, rows, 8))]);
        return output[0].Tensor.ToArray<float>();
    }

    public static float[] Floats(JsonNode? body, int output = 0) =>
        [.. body!["outputs"]![output]!["data"]!.AsArray().Select(v => v!.GetValue<float>())];
}
