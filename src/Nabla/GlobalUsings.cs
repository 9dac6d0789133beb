// TensorPrimitives by its own name: importing its namespace would make `Tensor` ambiguous with Nabla's.
global using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
