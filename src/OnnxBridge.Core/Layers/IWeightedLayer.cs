using TorchSharp.Modules;

namespace OnnxBridge.Core.Layers;

/// <summary>A layer with a weight and an optional bias, the parameters initializers act on.</summary>
public interface IWeightedLayer
{
    /// <summary>The weight; null while deferred.</summary>
    Parameter? Weight { get; }

    /// <summary>The bias; null without bias or while deferred.</summary>
    Parameter? Bias { get; }
}
