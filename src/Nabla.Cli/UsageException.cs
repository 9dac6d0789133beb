namespace Nabla.Cli;

/// <summary>A bad command-line value found after parsing (e.g. two options that do not go together): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
