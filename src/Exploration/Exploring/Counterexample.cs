using System.Globalization;
using System.Text;
using PatroniModel.Exploration.Shrinking;
using PatroniModel.Scenarios.Artifacts;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Sequences;

using PatroniModel.Exploration.Running;

namespace PatroniModel.Exploration.Exploring;

/// <summary>
/// A property failure, shrunk: printed one step per line with the failing property's label, the observations before and
/// after the failing step and the replay string, and saved as <c>artifacts/property/&lt;utc&gt;/sequence.json</c>.
/// </summary>
/// <param name="Replay">FsCheck's <c>seed,gamma,size</c> of the original (unshrunk) sequence, for <c>[Property(Replay = ...)]</c>.</param>
public sealed record Counterexample(RunOutcome Original, ShrinkResult Shrink, string? Replay)
{
    public RunOutcome Shrunk => Shrink.Shrunk;

    /// <summary>The shrunk sequence as a sequence file records it: what failed, and the seed it came from.</summary>
    public Sequence ShrunkSequence => Shrunk.Sequence with
    {
        Description = $"property '{Shrunk.Violation!.Label}' fails: {Shrunk.Violation.Message}",
        Origin = Replay is null ? "" : $"property replay {Replay}",
    };

    public string Format(string? savedTo = null)
    {
        var v = Shrunk.Violation!;
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"property '{v.Label}' failed after step {v.StepIndex}: {v.Message}");
        b.AppendLine(CultureInfo.InvariantCulture,
            $"shrunk from {Original.Sequence.Steps.Length} to {Shrunk.Sequence.Steps.Length} steps in {Shrink.Runs} runs; cluster: {Describe(Shrunk.Sequence.Config)}");
        b.AppendLine(Shrunk.History());
        if (Shrunk.FailingStep is { } failing)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"before: {failing.Before}");
            b.AppendLine(CultureInfo.InvariantCulture, $"after:  {failing.After}");
        }
        if (Replay is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"replay: [Property(Replay = \"{Replay}\")] (the original {Original.Sequence.Steps.Length}-step sequence, digest {SequenceDigest.Of(Original.Sequence)})");
        }
        if (savedTo is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"sequence: {savedTo} (patroni-model replay {savedTo})");
        }
        return b.ToString().TrimEnd();
    }

    /// <summary>
    /// Writes the evidence under <c>artifacts/property/&lt;utc&gt;/</c> (<see cref="ArtifactFolder"/>): sequence.json (shrunk), original.json, report.txt, trace.txt.
    /// Returns the sequence file's path.
    /// </summary>
    public string Save(string? artifactsRoot = null)
    {
        var directory = ArtifactFolder.Create("property", DateTimeOffset.UtcNow, artifactsRoot);
        var sequencePath = Path.Combine(directory, "sequence.json");
        SequenceFile.Save(ShrunkSequence, sequencePath);
        SequenceFile.Save(Original.Sequence with { Description = "the original, unshrunk sequence", Origin = ShrunkSequence.Origin },
            Path.Combine(directory, "original.json"));
        File.WriteAllText(Path.Combine(directory, "report.txt"), Format(sequencePath) + "\n");
        File.WriteAllText(Path.Combine(directory, "trace.txt"), Shrunk.Trace + "\n");
        return sequencePath;
    }

    public static string Describe(ClusterConfig c) =>
        $"{c.Members} members, synchronous_mode {SynchronousModeNames.ToName(c.SynchronousMode)}, ttl {c.Ttl} loop_wait {c.LoopWait} retry_timeout {c.RetryTimeout}, "
        + $"maximum_lag_on_failover {c.MaximumLagOnFailover}, permanent_slots [{string.Join(',', c.PermanentSlots)}], ignore_slots [{string.Join(',', c.IgnoreSlots)}]"
        + (c.InitialWal is { } start ? $", initial_wal {start}" : "");
}
