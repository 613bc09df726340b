namespace PatroniModel.Cli.Commands;

/// <summary><c>patroni-model explore [--seed S] [--runs N]</c>: generated fault sequences on the model, properties checked.</summary>
public static class ExploreCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = new Options(args, new HashSet<string>(), new HashSet<string> { "--seed", "--runs" });
        Console.WriteLine("model not built yet");
        return Task.FromResult(ExitCodes.Ok);
    }
}
