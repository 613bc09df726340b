using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Cli;

/// <summary>The <c>patroni-model</c> command. Exit codes: 0 ok, 1 property failure or disagreement, 2 bad input.</summary>
public static class Program
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine("usage: patroni-model explore [--seed S] [--runs N] | replay <sequence.json> [--real] | bench [--steps 30] [--members 3] [--seconds 20]");
            return args.Length == 0 ? BadInput : Ok;
        }
        try
        {
            return args[0] switch
            {
                "replay" when args.Length >= 2 => Replay(args[1]),
                "explore" => Explore(),
                _ => Bad($"unknown command '{string.Join(' ', args)}' (try: explore, replay <file>, bench)"),
            };
        }
        catch (SequenceFormatException e)
        {
            return Bad(e.Message);
        }
    }

    private static int Replay(string path)
    {
        var sequence = SequenceFile.Load(path);
        SequenceFile.Validate(sequence, path);
        Console.WriteLine(sequence.History());
        Console.WriteLine("model not built yet");
        return Ok;
    }

    private static int Explore()
    {
        Console.WriteLine("model not built yet");
        return Ok;
    }

    private static int Bad(string message)
    {
        Console.Error.WriteLine($"patroni-model: {message}");
        return BadInput;
    }
}
