using System.CommandLine;
using System.Reflection;
using System.Text.RegularExpressions;
using PatroniModel.Cli;
using Xunit;

namespace PatroniModel.Tests.CliTests.Commands;

/// <summary>
/// The command line itself, on System.CommandLine: help, version, completions, and the bad command lines that are one
/// line and exit 2 (a repeated option, an unknown option or argument, a value out of its bound). Part of
/// <see cref="CommandLineTests"/>, so these never run beside a test that redirects the console.
/// </summary>
public sealed partial class CommandLineTests
{
    /// <summary>Runs one command line with its own writers, as <c>Program.Main</c> does with the console's.</summary>
    private static async Task<(int Exit, string Out, string Err)> ParseAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Program.RunAsync(args, output, error, _ => null, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    public static TheoryData<string[]> EveryCommand => new()
    {
        { new[] { "explore" } }, { new[] { "explore", "merge" } }, { new[] { "replay" } }, { new[] { "conform" } }, { new[] { "conform", "merge" } },
        { new[] { "bench" } }, { new[] { "audit" } }, { new[] { "ensure" } }, { new[] { "exporter" } },
    };

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task Help_OfEveryCommand_WithDashDashHelpOrDashH_ExitsZeroWithItsDescriptionOptionsAndExitCodes(string[] command)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            // Given a command, When its help is asked for
            var (exit, output, error) = await ParseAsync([.. command, flag]);

            // Then it is printed on stdout with the usage, a description, the options and the exit codes; exit 0
            Assert.True(exit == 0, $"{string.Join(" ", command)} {flag}: exit {exit}: {error}");
            Assert.Equal("", error);
            Assert.Contains($" {string.Join(" ", command)} ", output, StringComparison.Ordinal);
            Assert.Contains("Description:", output, StringComparison.Ordinal);
            Assert.Contains("-?, -h, --help ", output, StringComparison.Ordinal);
            Assert.Matches(new Regex(@"^exit codes: 0 ", RegexOptions.Multiline), output);
            Assert.Contains("2 bad input", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryOption_HasADescription_AndEveryNumberItsBound()
    {
        // Given the whole command tree
        var root = Program.Create(_ => null);
        var options = Descendants(root).SelectMany(c => c.Options.Select(o => (Command: c.Name, Option: o)))
            .Where(o => o.Option.Name is not ("--help" or "--version")).ToList();
        // (the numbers given as text: a seed, a shard, a listen port, a shrink budget)
        var numericText = new HashSet<string> { "--seed", "--shard", "--listen", "--shrink-budget" };

        // Then each option says what it is, and each numeric one the range it takes
        Assert.NotEmpty(options);
        foreach (var (command, option) in options)
        {
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{command} {option.Name} has no description");
            var numeric = option.ValueType == typeof(int) || option.ValueType == typeof(int?) || option.ValueType == typeof(long?)
                          || option.ValueType == typeof(ulong?) || numericText.Contains(option.Name);
            if (numeric)
            {
                Assert.Matches(new Regex(@"\d+ to \d+|<= \d+|15 or 17|15\|17"), option.Description + option.HelpName);
            }
        }
    }

    private static IEnumerable<Command> Descendants(Command command) => new[] { command }.Concat(command.Subcommands.SelectMany(Descendants));

    [Theory]
    [InlineData("explore", "--runs <N>", "(1 to 100000000) [default: 10000]")]
    [InlineData("conform", "--runs <N>", "(1 to 100000) [default: 20]")]
    [InlineData("bench", "--steps <N>", "(1 to 10000) [default: 30]")]
    [InlineData("audit", "--timeout <SECONDS>", "(1 to 300) [default: 5]")]
    [InlineData("replay", "--artifacts <DIR>", "DIR/replay/<utc>/")]
    public async Task Help_ShowsEachOptionsDefaultAndBound(string command, string option, string text)
    {
        var (exit, output, _) = await ParseAsync(command, "--help");

        Assert.Equal(0, exit);
        var line = output.Split('\n').Single(l => l.TrimStart().StartsWith(option, StringComparison.Ordinal));
        Assert.Contains(text, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCommand_PrintsTheOverviewOnStderr_AndExitsTwo()
    {
        var (exit, output, error) = await ParseAsync();

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        foreach (var command in new[] { "explore", "replay", "conform", "bench", "audit", "ensure", "exporter" })
        {
            Assert.Matches(new Regex($@"^\s+{command}\s", RegexOptions.Multiline), error);
        }
    }

    [Fact]
    public async Task RootHelp_ListsTheCommands_AndEndsWithTheExitCodes()
    {
        var (exit, output, error) = await ParseAsync("--help");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("  ensure ", output, StringComparison.Ordinal);
        Assert.EndsWith(PatroniModel.Cli.Commands.HelpWithExitCodes.RootExitCodes, output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_AsTheInstalledCommandRunsIt_ExitsZeroWithTheExitCodes()
    {
        var (exit, output, error) = await RunProcessAsync("conform", "-h");

        Assert.True(exit == 0, error);
        Assert.Contains("patroni-model conform [command] [options]", output, StringComparison.Ordinal);
        Assert.Contains("exit codes: 0 every sequence agreed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exporter_StopsOnTheCallersToken_WithItsLastLine()
    {
        // Given an exporter listening on a free loopback port (no scrape comes, so no Patroni is needed)
        var port = FreePort();
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = Program.RunAsync(["exporter", "--patroni", "http://127.0.0.1:1", "--listen", $"127.0.0.1:{port}"], output, error, _ => null, stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!output.ToString().Contains("exporter: serving", StringComparison.Ordinal) && !run.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        // When the caller's token is cancelled
        await stop.CancelAsync();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(30));

        // Then it stops with exit 0 and says so
        Assert.True(exit == 0, $"exit {exit}: {output}{error}");
        Assert.Contains($"exporter: serving http://127.0.0.1:{port}/metrics", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("exporter: stopped after 0 scrape(s)", output.ToString(), StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task HelpWord_IsTheCommandsHelp()
    {
        var (exit, output, _) = await ParseAsync("help", "explore");
        var (_, direct, _) = await ParseAsync("explore", "--help");

        Assert.Equal(0, exit);
        Assert.Equal(direct, output);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("version")]
    public async Task Version_ExitsZeroWithTheAssemblysInformationalVersion(string flag)
    {
        var informational = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        var (exit, output, error) = await ParseAsync(flag);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Equal($"patroni-model {informational}", output.TrimEnd());
        Assert.Matches(@"^patroni-model \d+\.\d+\.\d+", output);
    }

    [Theory]
    [InlineData("ex", "explore exporter")]
    [InlineData("explore --postgres ", "15 17")]
    [InlineData("audit --patroni http://x:8008 --ssl", "--sslmode --sslrootcert")]
    [InlineData("audit --patroni http://x:8008 --sslmode ", "allow disable prefer require verify-ca verify-full")]
    [InlineData("ensure s1 --plugin ", "pgoutput test_decoding wal2json")]
    [InlineData("conform m", "merge")]
    public async Task Suggest_CompletesCommandsOptionsAndValues(string line, string expected)
    {
        // Given a partial command line, When the shell asks for completions at its end ([suggest:POSITION], as dotnet-suggest does)
        var (exit, output, _) = await ParseAsync($"[suggest:{line.Length}]", line);

        // Then the candidates are printed one per line
        Assert.Equal(0, exit);
        Assert.Equal(expected.Split(' '), output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Theory]
    [InlineData("--runs given twice", "explore", "--runs", "5", "--runs", "6")]
    [InlineData("--seed given twice", "replay", "--seed", "1,2,3", "--seed", "1,2,3")]
    [InlineData("--postgres given twice", "conform", "--postgres", "15", "--postgres", "17")]
    [InlineData("--planted given twice", "bench", "--planted", "--planted")]
    [InlineData("--out given twice", "conform", "merge", "a", "--out", "x", "--out", "y")]
    [InlineData("--json given twice", "audit", "--patroni", "http://x:8008", "--json", "--json")]
    [InlineData("--plugin given twice", "ensure", "s1", "--plugin", "pgoutput", "--plugin", "wal2json")]
    [InlineData("--listen given twice", "exporter", "--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2")]
    public async Task ARepeatedOption_IsAnError_NotTheLastWins(string message, params string[] args)
    {
        var (exit, output, error) = await ParseAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal($"patroni-model: {message}", error.TrimEnd());
    }

    [Theory]
    [InlineData("unknown option '--fast'", "explore", "--fast")]
    [InlineData("unknown option '-x'", "explore", "-x")]
    [InlineData("unknown option '--fast'", "explore", "merge", "a", "--fast")]
    [InlineData("unknown option '--fast'", "replay", "--fast")]
    [InlineData("unknown option '--fast'", "replay", "a.json", "--fast")]
    [InlineData("unknown option '--fast'", "conform", "--fast")]
    [InlineData("unknown option '--fast'", "conform", "merge", "--fast")]
    [InlineData("unknown option '--fast'", "bench", "--fast")]
    [InlineData("unknown option '--fast'", "audit", "--patroni", "http://x:8008", "--fast")]
    [InlineData("unknown option '--fast'", "ensure", "s1", "--fast")]
    [InlineData("unknown option '--fast'", "exporter", "--fast")]
    [InlineData("explore takes no argument 'extra' (see patroni-model explore --help)", "explore", "extra")]
    [InlineData("bench takes no argument 'extra' (see patroni-model bench --help)", "bench", "extra")]
    [InlineData("replay takes one sequence.json, got another argument 'b.json'", "replay", "a.json", "b.json")]
    [InlineData("ensure takes one SLOT, got another argument 's2'", "ensure", "s1", "s2")]
    [InlineData("--runs needs a value", "explore", "--runs")]
    [InlineData("/h: no such file (each shard writes it with explore --out DIR)", "explore", "merge", "/h")]
    [InlineData("--runs is an option of explore, not of explore merge", "explore", "--runs", "5", "merge", "a")]
    [InlineData("--postgres is an option of conform, not of conform merge", "conform", "--postgres", "17", "merge", "a")]
    [InlineData("--steps does not go with --planted (only --workers does)", "bench", "--planted", "--steps", "10")]
    [InlineData("--artifacts needs a value", "replay", "a.json", "--artifacts")]
    [InlineData("--runs must be a whole number from 1 to 100000, got '100001'", "conform", "--runs", "100001")]
    [InlineData("--steps must be a whole number from 1 to 10000, got '-1'", "bench", "--steps", "-1")]
    [InlineData("--seconds must be a whole number from 1 to 3600, got '1e3'", "bench", "--seconds", "1e3")]
    [InlineData("--timeout must be a whole number from 1 to 300, got '301'", "audit", "--patroni", "http://x:8008", "--timeout", "301")]
    [InlineData("--listen must be HOST:PORT with a port from 1 to 65535, got 'here'", "exporter", "--listen", "here")]
    [InlineData("--postgres must be 15 or 17, got '16'", "replay", "--seed", "1,2,3", "--postgres", "16")]
    [InlineData("--seed: size must be from 0 to 1000 (explore prints sizes 0 to 99), got 2147483647 in '1,1,2147483647'", "replay", "--seed", "1,1,2147483647")]
    public async Task ABadCommandLine_IsOneLineNamingWhatIsWrong_AndExitsTwo(string message, params string[] args)
    {
        var (exit, output, error) = await ParseAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal($"patroni-model: {message}", error.TrimEnd());
    }

    [Theory]
    [InlineData("07-hard-leader-kill-and-rejoin.json", "17", 15)]
    public async Task Replay_OfAFile_WithAPostgresThatDisagreesWithIt_IsRejectedInOneLine(string corpus, string postgres, int fileVersion)
    {
        var path = Corpus(corpus);

        var (exit, output, error) = await ParseAsync("replay", path, "--postgres", postgres, "--artifacts", workDirectory);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal($"patroni-model: --postgres {postgres}: {path} is a postgres {fileVersion} sequence (its cluster.postgres); drop --postgres or change the file", error.TrimEnd());
    }

    [Fact]
    public async Task Replay_OfAFile_WithThePostgresItStates_Runs()
    {
        // Given a PostgreSQL 17 sequence file
        var path = Path.Combine(workDirectory, "pg17.json");
        await File.WriteAllTextAsync(path, """
            {"format": "patroni-model/sequence@1", "cluster": {"postgres": 17}, "steps": [{"kind": "settle"}]}
            """);

        // When it is replayed with --postgres 17, and with --postgres 15
        var (exit, output, error) = await RunAsync("replay", path, "--postgres", "17", "--artifacts", workDirectory);
        var (otherExit, _, otherError) = await ParseAsync("replay", path, "--postgres", "15", "--artifacts", workDirectory);

        // Then the agreeing one runs, the other is refused before anything runs
        Assert.True(exit == 0, output + error);
        Assert.Contains("verdict: all properties hold over 1 steps", output, StringComparison.Ordinal);
        Assert.Equal(2, otherExit);
        Assert.Contains("is a postgres 17 sequence", otherError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_WithArtifactsWhereNoFolderCanBeMade_IsOneLineSayingWhere_AndExitsTwo()
    {
        // Given an artifacts path under a regular file, and one under /proc
        var file = Path.Combine(workDirectory, "a-file");
        await File.WriteAllTextAsync(file, "");
        foreach (var bogus in new[] { Path.Combine(file, "artifacts"), "/proc/patroni-model-nowhere" })
        {
            // When a sequence is replayed with it
            var (exit, output, error) = await ParseAsync("replay", Corpus("07-hard-leader-kill-and-rejoin.json"), "--artifacts", bogus);

            // Then one line says where the artifacts would have gone; no stack trace, nothing run
            Assert.Equal(2, exit);
            Assert.Equal("", output);
            var line = Assert.Single(error.TrimEnd().Split('\n'));
            Assert.StartsWith($"patroni-model: --artifacts: can't create the artifacts folder under {Path.Combine(bogus, "replay")} (", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Replay_WithAnArtifactsRootFromTheEnvironmentThatCantBeMade_SaysHowToChooseAnother()
    {
        var file = Path.Combine(workDirectory, "a-file");
        await File.WriteAllTextAsync(file, "");
        using var _ = new EnvironmentVariable("PATRONI_MODEL_ARTIFACTS", file);

        var (exit, _, error) = await ParseAsync("replay", Corpus("07-hard-leader-kill-and-rejoin.json"));

        Assert.Equal(2, exit);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"patroni-model: can't create the artifacts folder under {Path.Combine(file, "replay")} (", line, StringComparison.Ordinal);
        Assert.EndsWith("; set --artifacts DIR or PATRONI_MODEL_ARTIFACTS", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"members": 3,}""", @"malformed JSON at line 2, column \d+: The JSON object contains a trailing comma at the end")]
    [InlineData("""{"members": 3} // three""", @"malformed JSON at line 2, column 28: '/' is invalid after a value. Expected either ',', '}', or ']'")]
    [InlineData("""{"members": 3x}""", @"malformed JSON at line 2, column \d+: '}' is invalid after a value|malformed JSON at line 2, column \d+: 'x' is")]
    public async Task Replay_OfMalformedJson_SaysLineColumnAndReason_WithoutTheJsonReadersInternals(string cluster, string reason)
    {
        var path = Path.Combine(workDirectory, "malformed.json");
        await File.WriteAllTextAsync(path, $"{{\"format\": \"patroni-model/sequence@1\",\n \"cluster\": {cluster}, \"steps\": []}}");

        var (exit, _, error) = await ParseAsync("replay", path, "--artifacts", workDirectory);

        Assert.Equal(2, exit);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Matches($"^patroni-model: {Regex.Escape(path)}: ({reason})", line);
        foreach (var internals in new[] { "Change the reader options", "LineNumber", "BytePositionInLine", "in this mode" })
        {
            Assert.DoesNotContain(internals, line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"format": "patroni-model/sequence@1", "cluster": {}, "steps": [], "steps": []}""", "top level: field 'steps' given twice")]
    [InlineData("""{"format": "patroni-model/sequence@1", "cluster": {"members": 3, "members": 5}, "steps": []}""", "cluster: field 'members' given twice")]
    [InlineData("""{"format": "patroni-model/sequence@1", "cluster": {}, "steps": [{"kind": "settle"}, {"kind": "kill", "member": "pg1", "member": "pg2"}]}""", "step 1: field 'member' given twice")]
    [InlineData("""{"format": "patroni-model/sequence@1", "cluster": {}, "steps": [{"kind": "settle", "kind": "kill"}]}""", "step 0: field 'kind' given twice")]
    public async Task Replay_OfAFileWithAKeyGivenTwice_IsRejectedNamingItAndTheStep(string json, string reason)
    {
        var path = Path.Combine(workDirectory, "duplicate.json");
        await File.WriteAllTextAsync(path, json);

        var (exit, output, error) = await ParseAsync("replay", path, "--artifacts", workDirectory);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal($"patroni-model: {path}: {reason}", error.TrimEnd());
    }
}
