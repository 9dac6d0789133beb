namespace Nabla.Data;

/// <summary>
/// A data file or dataset that cannot be used: missing, truncated, corrupt, or inconsistent. The message is
/// one line that says what is wrong and how to fix it; the command-line tool prints it without a stack trace.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DataFormatException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>
    /// The setting that fixes the problem, when one does (<see cref="DataDirectorySetting"/>): a front end names its
    /// own spelling of it (the command line, <c>--data</c>); library messages name no flags.
    /// </summary>
    public string? Setting { get; init; }

    /// <summary>The <see cref="Setting"/> of a dataset that was not found: the folder that holds its files.</summary>
    public const string DataDirectorySetting = "DataDirectory";

    /// <summary>The <see cref="Setting"/> of a table read with the wrong cell separator.</summary>
    public const string DelimiterSetting = "Delimiter";
}

