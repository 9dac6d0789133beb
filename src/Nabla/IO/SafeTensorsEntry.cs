namespace Nabla.IO;

/// <summary>One tensor of a safetensors file: its name, dtype, shape and (for F32) its values.</summary>
/// <param name="Name">E.g. <c>1.weight</c>.</param>
/// <param name="DType">The file's dtype string, e.g. <c>F32</c>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">The values, row-major (F32 only).</param>
public sealed record SafeTensorsEntry(string Name, string DType, long[] Shape, float[] Data);
