namespace PatroniModel.Cli;

/// <summary>The command's exit codes.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    /// <summary>Stopped by Ctrl-C (SIGINT) after printing what it had done: 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Writes one line to stderr and returns <see cref="BadInput"/>.</summary>
    public static int Bad(string message) => Bad(Console.Error, message);

    /// <summary>Writes one line to <paramref name="error"/> and returns <see cref="BadInput"/>.</summary>
    public static int Bad(TextWriter error, string message)
    {
        error.WriteLine($"patroni-model: {message}");
        return BadInput;
    }
}

/// <summary>A command line the command can't use; its message is the one line printed.</summary>
public sealed class UsageException(string message) : Exception(message);
