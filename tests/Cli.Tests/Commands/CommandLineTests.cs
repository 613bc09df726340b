using System.Text.RegularExpressions;
using PatroniModel.Cli;
using PatroniModel.Scenarios.Sequences;
using Xunit;

namespace PatroniModel.Tests.CliTests.Commands;

/// <summary>
/// The <c>patroni-model</c> command as a user runs it: exit codes, one-line errors, replay on the model with artifacts,
/// explore's determinism, bench's figure. One class, so the console redirection of one test never meets another's.
/// </summary>
public sealed partial class CommandLineTests : IDisposable
{
    private readonly string workDirectory = Path.Combine(Path.GetTempPath(), $"pm-cli-{Guid.NewGuid():N}");

    public CommandLineTests() => Directory.CreateDirectory(workDirectory);

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var originalOut = Console.Out;
        var originalErr = Console.Error;
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exit = await Program.Main(args);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalErr);
        }
    }

    private static string Corpus(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "PatroniModel.sln")))
        {
            directory = directory.Parent;
        }
        return Path.Combine(directory.FullName, "tests", "E2E", "Corpus", file);
    }

    [Theory]
    [InlineData("{\"kind\": \"kil\", \"member\": \"pg2\"}", "step 1: unknown step kind 'kil'")]
    [InlineData("{\"kind\": \"kill\", \"member\": \"pg9\"}", "step 1: unknown member 'pg9'")]
    [InlineData("{\"kind\": \"reconcile\", \"slot\": \"s1\", \"last_confirmed\": \"0/XYZ\"}", "step 1: field 'last_confirmed' is '0/XYZ', not an LSN")]
    public async Task Replay_OfAFileWithATypo_ExitsTwoWithOneLineNamingFileStepAndReason(string badStep, string reason)
    {
        // Given a sequence file whose second step has a typo
        var path = Path.Combine(workDirectory, "bad.json");
        await File.WriteAllTextAsync(path, $$"""
            {"format": "patroni-model/sequence@1", "cluster": {"members": 3}, "steps": [
              {"kind": "settle"},
              {{badStep}}
            ]}
            """);

        // When it is replayed
        var (exit, output, error) = await RunAsync("replay", path);

        // Then the command exits 2 with one line on stderr and nothing run
        Assert.Equal(2, exit);
        Assert.Equal($"patroni-model: {path}: {reason}", error.TrimEnd().Split('\n').Single()[..$"patroni-model: {path}: {reason}".Length]);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData(new[] { "replay" }, "replay needs one sequence file")]
    [InlineData(new[] { "replay", "--seed", "1,2" }, "--seed must be seed,gamma,size")]
    [InlineData(new[] { "explore", "--runs", "0" }, "--runs must be a whole number from 1 to 100000000")]
    [InlineData(new[] { "explore", "--seed", "abc" }, "--seed must be a whole number or seed,gamma")]
    [InlineData(new[] { "bench", "--members", "99" }, "--members must be a whole number from 1 to 9")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    [InlineData(new[] { "explore", "--fast" }, "unknown option '--fast'")]
    public async Task BadCommandLines_ExitTwoWithOneLine(string[] args, string expected)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Replay_OfAPostgres17Sequence_RunsOnTheModel_AndTheSpiloFlavorRefusesItInOneLine()
    {
        // Given a PostgreSQL 17 sequence: an ignored failover slot synced to the standbys, then a hard leader kill
        var path = Path.Combine(workDirectory, "pg17.json");
        await File.WriteAllTextAsync(path, """
            {"format": "patroni-model/sequence@1", "cluster": {"postgres": 17, "ignore_slots": ["s1"]}, "steps": [
              {"kind": "create-slot", "slot": "s1"}, {"kind": "write", "rows": 3}, {"kind": "checkpoint"}, {"kind": "consume", "slot": "s1"},
              {"kind": "wait", "seconds": 5}, {"kind": "kill", "member": "pg1"}, {"kind": "settle"}, {"kind": "reconcile", "slot": "s1"}
            ]}
            """);

        // When it is replayed on the model, and on reality with the Spilo flavor asked for
        var (exit, output, error) = await RunAsync("replay", path, "--artifacts", workDirectory);
        int realExit;
        string realOutput, realError;
        using (new EnvironmentVariable("PATRONI_MODEL_SPILO_IMAGE", "localhost:1/zalando/spilo-15:3.0-p1"))
        {
            (realExit, realOutput, realError) = await RunAsync("replay", path, "--real", "--artifacts", workDirectory);
        }

        // Then the model finds the synced failover slot on the new leader (no alarm); the Spilo flavor refuses before starting anything
        Assert.True(exit == 0, output + error);
        Assert.Matches(@"  7 reconcile s1 => found on pg[23]\n", output);
        Assert.Equal(2, realExit);
        Assert.DoesNotContain("# reality", realError, StringComparison.Ordinal);
        Assert.Equal($"patroni-model: {path}: invalid cluster configuration: the Spilo flavor runs postgres 15 sequences; unset PATRONI_MODEL_SPILO_IMAGE for postgres 17", realError.TrimEnd());
    }

    [Fact]
    public async Task Explore_WithPostgres17_ExploresFailoverSlotSequencesAndRejectsOtherVersions()
    {
        var (exit, output, _) = await RunAsync("explore", "--seed", "7", "--runs", "50", "--postgres", "17");
        var (badExit, _, badError) = await RunAsync("explore", "--postgres", "16");

        Assert.Equal(0, exit);
        Assert.Contains("exploring 50 PostgreSQL 17 failover-slot sequences on the model, seed 7", output, StringComparison.Ordinal);
        Assert.Contains("explored 50 sequences", output, StringComparison.Ordinal);
        Assert.Equal(2, badExit);
        Assert.Equal("patroni-model: --postgres must be 15 or 17, got '16'", badError.TrimEnd());
    }

    [Fact]
    public async Task Explore_WithAFamily_ExploresItAndRejectsUnknownOnesAndPostgres17()
    {
        var (exit, output, _) = await RunAsync("explore", "--seed", "7", "--runs", "20", "--family", "wal-boundaries", "--workers", "1");
        var (probeExit, probeOutput, _) = await RunAsync("explore", "--seed", "7", "--runs", "20", "--family", "probes", "--workers", "1");
        var (badExit, _, badError) = await RunAsync("explore", "--family", "edges");
        var (mixedExit, _, mixedError) = await RunAsync("explore", "--family", "probes", "--postgres", "17");

        Assert.True(exit == 0, output);
        Assert.Contains("exploring 20 WAL boundary sequences on the model, seed 7", output, StringComparison.Ordinal);
        Assert.Contains("repeat with: patroni-model explore --seed 7 --runs 20 --family wal-boundaries", output, StringComparison.Ordinal);
        Assert.True(probeExit == 0, probeOutput);
        Assert.Contains("exploring 20 probe sequences on the model, seed 7", probeOutput, StringComparison.Ordinal);
        Assert.Equal(2, badExit);
        Assert.Equal("patroni-model: --family must be default, wal-boundaries, probes, got 'edges'", badError.TrimEnd());
        Assert.Equal(2, mixedExit);
        Assert.Equal("patroni-model: --family probes runs on postgres 15; leave out --postgres 17", mixedError.TrimEnd());
    }

    [Fact]
    public async Task Replay_WithAFamily_RegeneratesFromASeed_AndRefusesItWithAFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"family-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"format":"patroni-model/sequence@1","steps":[{"step":"write","rows":1}]}""");
        try
        {
            var (seedExit, seedOutput, _) = await RunAsync("replay", "--seed", "7,9,5", "--family", "probes");
            var (fileExit, _, fileError) = await RunAsync("replay", file, "--family", "probes");

            Assert.True(seedExit is 0 or 1, seedOutput);
            Assert.Contains("verdict", seedOutput, StringComparison.Ordinal);
            Assert.Equal(2, fileExit);
            Assert.Equal("patroni-model: --family probes goes with --seed; a sequence file is replayed as it is written", fileError.TrimEnd());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Replay_OfAMissingFile_ExitsTwo()
    {
        var (exit, _, error) = await RunAsync("replay", Path.Combine(workDirectory, "missing.json"));

        Assert.Equal(2, exit);
        Assert.Contains("missing.json: can't read the file", error);
    }

    [Fact]
    public async Task Replay_Real_WithNoEngineAnswering_ExitsTwoWithOneLineSayingHowToGetOne()
    {
        // Given a Docker host where no engine answers
        using var _ = new EnvironmentVariable("DOCKER_HOST", $"unix://{Path.Combine(workDirectory, "no-engine.sock")}");

        // When a sequence is replayed on reality
        var (exit, _, error) = await RunAsync("replay", Corpus("07-hard-leader-kill-and-rejoin.json"), "--real", "--artifacts", workDirectory);

        // Then the command exits 2 with one line naming the engine address and how to start one
        Assert.Equal(2, exit);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"patroni-model: no Docker engine answers at unix://{workDirectory}/no-engine.sock", line, StringComparison.Ordinal);
        Assert.Contains("scripts/docker-engine.sh", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_Real_WithASpiloImageThatCannotBePulled_ExitsTwoWithOneLineAndStartsNothing()
    {
        // Given the Spilo flavor asked for with an image no registry serves (loopback port 1: nothing leaves the machine)
        using var _ = new EnvironmentVariable("PATRONI_MODEL_SPILO_IMAGE", "localhost:1/zalando/spilo-15:3.0-p1");

        // When a sequence is replayed on reality (this needs the Docker engine ./test.sh starts)
        var (exit, _, error) = await RunAsync("replay", Corpus("07-hard-leader-kill-and-rejoin.json"), "--real", "--artifacts", workDirectory);

        // Then the command exits 2 with one line saying the image can't be pulled and what to do
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("no Docker engine answers", line, StringComparison.Ordinal);
        Assert.Equal(2, exit);
        Assert.StartsWith("patroni-model: the Spilo image localhost:1/zalando/spilo-15:3.0-p1 named by PATRONI_MODEL_SPILO_IMAGE is not on this engine and cannot be pulled (", line, StringComparison.Ordinal);
        Assert.EndsWith("or unset PATRONI_MODEL_SPILO_IMAGE to run the Debian-built image", line, StringComparison.Ordinal);
    }

    /// <summary>Sets an environment variable for one test and puts the old value back.</summary>
    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string name;
        private readonly string? old;

        public EnvironmentVariable(string name, string value)
        {
            this.name = name;
            old = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(name, old);
    }

    [Fact]
    public async Task Replay_OfACorpusSequence_OnTheModel_PrintsHistoryVerdictAndWritesArtifacts()
    {
        // Given the hard-leader-kill corpus sequence
        var path = Corpus("07-hard-leader-kill-and-rejoin.json");

        // When it is replayed on the model
        var (exit, output, error) = await RunAsync("replay", path, "--artifacts", workDirectory);

        // Then every step is printed with the reconciler's gap, the verdict holds, and the evidence is on disk
        Assert.True(exit == 0, output + error);
        Assert.Matches(@"  7 reconcile s1 => gap 0/[0-9A-F]+\.\.0/[0-9A-F]+ \(\d+ B\) on pg[23] \(unprotected\)", output);
        Assert.Contains("verdict: all properties hold over 14 steps", output);
        var directory = ArtifactsLine().Match(output).Groups[1].Value;
        foreach (var file in new[] { "sequence.json", "history.txt", "history.jsonl", "timeline.html" })
        {
            Assert.True(File.Exists(Path.Combine(directory, file)), $"{file} missing in {directory}");
        }
        Assert.Equal(File.ReadAllText(path), File.ReadAllText(Path.Combine(directory, "sequence.json")));
        Assert.Equal(14, File.ReadAllLines(Path.Combine(directory, "history.jsonl")).Length);
    }

    [Fact]
    public async Task Replay_FromAPropertySeed_RegeneratesTheSameSequenceEveryTime()
    {
        var first = PatroniModel.Cli.Commands.ReplayCommand.FromSeed("12345,67891,30");
        var second = PatroniModel.Cli.Commands.ReplayCommand.FromSeed("12345,67891,30");
        var other = PatroniModel.Cli.Commands.ReplayCommand.FromSeed("12346,67891,30");

        Assert.Equal(SequenceFile.Write(first), SequenceFile.Write(second));
        Assert.NotEqual(SequenceFile.Write(first), SequenceFile.Write(other));
        Assert.NotEmpty(first.Steps);
        var (exit, output, _) = await RunAsync("replay", "--seed", "12345,67891,30", "--artifacts", workDirectory);
        Assert.Contains("replaying property seed 12345,67891,30", output);
        Assert.True(exit is 0 or 1);
    }

    [Fact]
    public async Task Explore_WithTheSameSeed_PrintsTheSameSummary()
    {
        var (exit1, out1, _) = await RunAsync("explore", "--seed", "7", "--runs", "40");
        var (exit2, out2, _) = await RunAsync("explore", "--seed", "7", "--runs", "40");

        Assert.Equal(0, exit1);
        Assert.Equal(0, exit2);
        var summary1 = Summary().Match(out1);
        var summary2 = Summary().Match(out2);
        Assert.True(summary1.Success, out1);
        Assert.Equal("40", summary1.Groups[1].Value);
        Assert.Equal(summary1.Groups[2].Value, summary2.Groups[2].Value);
    }

    [Fact]
    public async Task Bench_EndsWithItsFigure()
    {
        var (exit, output, _) = await RunAsync("bench", "--seconds", "1", "--steps", "10");

        Assert.Equal(0, exit);
        Assert.Matches(@"1 worker: \d+ sequences \(\d+ steps\) in [\d.]+ s, \d+ sequences/s, virtual time \d+x wall", output);
        if (Environment.ProcessorCount > 1)
        {
            Assert.Matches($@"bench: scaling [\d.]+x with {Environment.ProcessorCount} workers", output);
        }
        Assert.Matches(@"bench: \d+ sequences/s \(10 steps, 3 members(, \d+ workers)?\)\s*$", output);
    }

    [Fact]
    public async Task Explore_InTwoShardsAsTwoProcesses_MergesToTheCountsOfOneRun()
    {
        // Given one run of 300 sequences, and the same run as two shards in two processes writing their summaries
        var (exit, whole, _) = await RunAsync("explore", "--seed", "11", "--runs", "300", "--workers", "2");
        var shards = await Task.WhenAll(new[] { "0/2", "1/2" }.Select(shard =>
            RunProcessAsync("explore", "--seed", "11", "--runs", "300", "--workers", "1", "--shard", shard, "--out", Path.Combine(workDirectory, shard.Replace('/', '-')))));
        Assert.All(shards, s => Assert.True(s.Exit == 0, s.Out + s.Err));

        // When the shards' summaries are merged
        var (mergeExit, merged, mergeErr) = await RunProcessAsync("explore", "merge", Path.Combine(workDirectory, "0-2"), Path.Combine(workDirectory, "1-2"));

        // Then the merged verdict has the one run's counts, and each shard explored its half
        Assert.Equal(0, exit);
        Assert.True(mergeExit == 0, merged + mergeErr);
        var one = Summary().Match(whole);
        Assert.True(one.Success, whole);
        Assert.Contains($"explored {one.Groups[1].Value} sequences ({one.Groups[2].Value} steps), 0 failures", merged, StringComparison.Ordinal);
        Assert.Contains("shard 0/2: sequences 0..149", shards[0].Out, StringComparison.Ordinal);
        Assert.Contains("shard 1/2: sequences 150..299", shards[1].Out, StringComparison.Ordinal);
        Assert.Contains("repeat with: patroni-model explore --seed 11 --runs 300 --shard 1/2", shards[1].Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExploreMerge_WithAShardMissing_ExitsTwoNamingIt()
    {
        // Given one of two shards
        var (exit, _, _) = await RunAsync("explore", "--seed", "3", "--runs", "20", "--shard", "0/2", "--out", Path.Combine(workDirectory, "only"));

        // When it is merged alone, Then one line names the missing shard
        var (mergeExit, _, error) = await RunAsync("explore", "merge", Path.Combine(workDirectory, "only"));
        Assert.Equal(0, exit);
        Assert.Equal(2, mergeExit);
        Assert.Equal("patroni-model: missing shards 1/2 of 2", error.Trim());
    }

    [Fact]
    public async Task Explore_OnSigterm_StopsCleanlyWithThePartialSummaryAndTheSeed()
    {
        // Given a long exploration in its own process
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliDll, "explore", "--seed", "5", "--runs", "10000000", "--workers", "2" })
        {
            start.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var started = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
            if (e.Data?.StartsWith("exploring 10000000 sequences", StringComparison.Ordinal) == true)
            {
                started.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        // (it handles Ctrl-C from before it prints its first line, so the signal may come at any point after that)
        await started.Task.WaitAsync(TimeSpan.FromMinutes(2));

        // When it gets SIGTERM (SIGINT, Ctrl-C, takes the same path but is ignored when the test host runs as a shell's
        // background job, which its children inherit)
        Assert.Equal(0, Kill(process.Id, 15));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        // Then it printed what it explored, said it stopped, and how to repeat the run; exit 130
        var text = output.ToString();
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {text} {await stderr}");
        Assert.Matches(@"explored \d+ sequences \(\d+ steps\) in [\d.]+ s, 0 failures \(stopped before the end\)", text);
        Assert.Contains("seed 5; repeat with: patroni-model explore --seed 5 --runs 10000000", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "explore", "--workers", "0" }, "--workers must be a whole number from 1 to 256, got '0'")]
    [InlineData(new[] { "explore", "--shard", "2/2" }, "--shard must be i/n with 0 <= i < n <= 100000, got '2/2'")]
    [InlineData(new[] { "explore", "merge" }, "explore merge needs the folders of the shards' summary.json (explore merge DIR...)")]
    [InlineData(new[] { "explore", "merge", "/nonexistent/pm" }, "/nonexistent/pm: no such file (each shard writes it with explore --out DIR)")]
    public async Task Explore_WithBadWorkersShardOrMerge_ExitsTwoWithOneLine(string[] args, string message)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal($"patroni-model: {message}", error.Trim());
    }

    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "patroni-model.dll");

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private static async Task<(int Exit, string Out, string Err)> RunProcessAsync(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CliDll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex(@"artifacts: (\S+)")]
    private static partial Regex ArtifactsLine();

    [GeneratedRegex(@"explored (\d+) sequences \((\d+) steps\) in [\d.]+ s, 0 failures")]
    private static partial Regex Summary();
}
