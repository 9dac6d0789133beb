namespace Nabla.Data;

/// <summary>
/// A data file or dataset that cannot be used: missing, truncated, corrupt, or inconsistent. The message is
/// one line that says what is wrong and how to fix it; the command-line tool prints it without a stack trace.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DataFormatException(string message, Exception? inner = null) : base(message, inner) { }
}
