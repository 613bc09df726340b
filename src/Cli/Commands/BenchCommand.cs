namespace PatroniModel.Cli.Commands;

/// <summary><c>patroni-model bench [--steps 30] [--members 3] [--seconds 20]</c>: sequences per second on the model.</summary>
public static class BenchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = new Options(args, new HashSet<string>(), new HashSet<string> { "--steps", "--members", "--seconds" });
        Console.WriteLine("model not built yet");
        return Task.FromResult(ExitCodes.Ok);
    }
}
