using Google.Protobuf;
using OnnxBridge.Onnx.Proto;

namespace OnnxBridge.Onnx;

/// <summary>Reading ONNX model files with errors that name the file.</summary>
public static class OnnxFiles
{
    /// <summary>Parses <paramref name="path"/> as a <see cref="ModelProto"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model.</exception>
    public static ModelProto ReadModel(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid ONNX model: {e.Message}", e);
        }
    }
}
