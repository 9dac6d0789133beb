using System.Globalization;

namespace Nabla.Cli;

/// <summary>The <c>--threads</c> value, parsed once: <c>auto</c> (the default), or a fixed count.</summary>
/// <param name="Fixed">The count asked for; null for auto.</param>
internal readonly record struct ThreadChoice(int? Fixed)
{
    /// <summary>Training times its own steps with 1 up to the cores this process may use and keeps the fastest.</summary>
    public static ThreadChoice Auto => new(null);

    /// <summary>Whether the count is left to the run.</summary>
    public bool IsAuto => Fixed is null;

    /// <summary>The pool's size: the fixed count, or the cores this process may use (affinity and CPU quota count).</summary>
    public int Count => Fixed ?? Environment.ProcessorCount;

    /// <summary>Parses <c>auto</c> or a positive count up to <paramref name="max"/>.</summary>
    /// <exception cref="FormatException">Anything else; the message says what is accepted.</exception>
    public static ThreadChoice Parse(string text, int max)
    {
        text = text.Trim();
        if (text.Equals("auto", StringComparison.OrdinalIgnoreCase)) return Auto;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new FormatException($"--threads must be auto or a positive integer; got '{text}'.");
        if (n > max) throw new FormatException($"--threads must be at most {max} (4 × the {Environment.ProcessorCount} cores this process may use); got {n}.");
        return new(n);
    }

    /// <summary>As written on the command line.</summary>
    public override string ToString() => Fixed?.ToString(CultureInfo.InvariantCulture) ?? "auto";
}
