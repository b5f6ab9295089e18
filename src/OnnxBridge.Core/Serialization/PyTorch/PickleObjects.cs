using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>A storage reference from a pickle's persistent id: which archive record, of which element type and length.</summary>
internal sealed record StorageRef(string Key, DataType ElementType, long ElementCount);

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a view into a storage.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

/// <summary>The only callables a state-dict pickle may name; reducing anything else is refused.</summary>
internal enum PickleGlobal
{
    OrderedDict,
    RebuildTensor,
    RebuildParameter,
    Storage,
}

/// <summary>A resolved GLOBAL: one of the allowed callables, with the storage element type for storage classes.</summary>
internal sealed record GlobalRef(PickleGlobal Kind, string Name, DataType StorageType = DataType.Undefined);
