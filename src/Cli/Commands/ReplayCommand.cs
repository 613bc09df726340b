using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Cli.Commands;

/// <summary><c>patroni-model replay &lt;sequence.json&gt; [--real]</c>: runs a sequence file (or a property seed) for a bug repro.</summary>
public static class ReplayCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var options = new Options(args, new HashSet<string> { "--real" }, new HashSet<string> { "--seed" });
        if (options.Positional.Count != 1)
        {
            throw new UsageException("replay needs one sequence file: patroni-model replay <sequence.json>");
        }
        var path = options.Positional[0];
        var sequence = SequenceFile.Load(path);
        SequenceFile.Validate(sequence, path);
        Console.WriteLine(sequence.History());
        Console.WriteLine("model not built yet");
        return Task.FromResult(ExitCodes.Ok);
    }
}
