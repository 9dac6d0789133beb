using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// A module's state as PyTorch's <c>state_dict()</c> gives it: every parameter under its dotted name
/// (<c>1.weight</c>, <c>encoder.0.bias</c>), in registration order. The tensors are the module's own (not copies), as
/// in PyTorch; <see cref="Module.LoadStateDict"/> copies values into a module.
/// </summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>
{
    private readonly List<KeyValuePair<string, Tensor>> _ordered = [];
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);

    /// <summary>An empty state dict (fill it with <see cref="Add"/>, e.g. from a file).</summary>
    public StateDict() { }

    /// <summary>Adds an entry.</summary>
    /// <exception cref="ArgumentException">The name is already there.</exception>
    public void Add(string name, Tensor value)
    {
        if (!_byName.TryAdd(name, value)) throw new ArgumentException($"The state dict already has '{name}'.");
        _ordered.Add(new(name, value));
    }

    /// <inheritdoc/>
    public Tensor this[string key] => _byName[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _ordered.Select(p => p.Key);

    /// <inheritdoc/>
    public IEnumerable<Tensor> Values => _ordered.Select(p => p.Value);

    /// <inheritdoc/>
    public int Count => _ordered.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _byName.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => _byName.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _ordered.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>What <see cref="Module.LoadStateDict"/> did not match (PyTorch's <c>_IncompatibleKeys</c>).</summary>
/// <param name="MissingKeys">The module's parameters the state dict lacks.</param>
/// <param name="UnexpectedKeys">The state dict's entries the module does not have.</param>
public sealed record IncompatibleKeys(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
