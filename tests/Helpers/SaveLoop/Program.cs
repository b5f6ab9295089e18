// SaveLoop PATH MEGABYTES: rewrites PATH as a state dict forever, in the format its extension names
// (.safetensors, .pt, .dat), alternating two contents (every float 1, then every float 2), and
// prints "saved N" after each write. Killed by tests.
using System.Globalization;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx.Tensors;

var path = args[0];
var floats = int.Parse(args[1], CultureInfo.InvariantCulture) * 1024 * 1024 / 4 / 2;
var contents = new[] { 1f, 2f }.Select(v =>
{
    var data = new float[floats];
    Array.Fill(data, v);
    return new[] { ("a", HostTensor.Create<float>(data, floats)), ("b", HostTensor.Create<float>(data, floats)) };
}).ToArray();

for (long n = 0; ; n++)
{
    StateDicts.Write(path, contents[n % 2]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"saved {n}"));
}

