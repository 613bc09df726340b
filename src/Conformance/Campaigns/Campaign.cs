using System.Collections.Immutable;
using System.Diagnostics;
using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Conformance.Sessions;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Shrinking;
using PatroniModel.Model;
using PatroniModel.RealCluster.Docker;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Conformance.Campaigns;

/// <summary>What a campaign runs and where it writes.</summary>
/// <param name="Directory">The campaign folder: <c>summary.json</c>, <c>report.html</c>, and <c>sequences/NNNNN/</c> per sequence.</param>
/// <param name="ShrinkReplays">The most candidate replays (each on a fresh real cluster) a disagreement is shrunk with; 0 does not shrink.</param>
/// <param name="ShrinkTime">The most wall time a disagreement is shrunk for.</param>
public sealed record CampaignSettings(
    ulong Seed, int Runs, SequenceFamily Family, Shard Shard, string Directory, int ShrinkReplays = 0, TimeSpan? ShrinkTime = null)
{
    public string SeedText => Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A conformance campaign: sequences nobody wrote by hand (<see cref="CampaignSequences"/>), each run on the model and on
/// a fresh real cluster through the one <see cref="ConformanceSession"/>, with the agreement rate and every disagreement's
/// evidence. After each sequence, <c>summary.json</c> and <c>report.html</c> are rewritten (atomically), so a campaign
/// stopped by Ctrl-C, or killed, still leaves the report of what ran. A disagreement is shrunk on reality when
/// <see cref="CampaignSettings.ShrinkReplays"/> allows: the exploration shrinker's candidates, each replayed on model and
/// reality, kept while they still disagree in one of the same fields.
/// </summary>
/// <remarks>
/// Every sequence gets a fresh cluster (pg1 bootstraps as leader, as on the model): reusing one would have to restore
/// the model's initial state on reality (the leader back on pg1, the timeline, the rows, every slot and config change
/// undone), and a leftover of the previous sequence that the reset missed would be counted as the next sequence's
/// disagreement. The price is the bring-up, reported per sequence (<see cref="CampaignEntry.BringUpSeconds"/>).
/// </remarks>
public sealed class Campaign(CampaignSettings settings, Action<string> log)
{
    /// <summary>
    /// Runs the campaign's slice; <paramref name="onSequence"/> sees each sequence's entry and the summary so far.
    /// Cancelling ends the current sequence (its containers removed; it is not counted) and returns the summary of what
    /// ran, marked stopped. A Docker engine that does not answer throws <see cref="DockerEngineUnavailableException"/>
    /// before anything is counted.
    /// </summary>
    public async Task<CampaignSummary> RunAsync(Action<CampaignEntry, CampaignSummary>? onSequence = null, CancellationToken cancellationToken = default)
    {
        System.IO.Directory.CreateDirectory(settings.Directory);
        using var runtime = new ModelRuntime();
        var entries = ImmutableArray.CreateBuilder<CampaignEntry>();
        var clock = Stopwatch.StartNew();
        var summary = Summary(entries.ToImmutable(), clock.Elapsed, stopped: false);
        Save(summary);
        for (var index = settings.Shard.Start(settings.Runs); index < settings.Shard.End(settings.Runs); index++)
        {
            var entry = cancellationToken.IsCancellationRequested ? null : await RunOneAsync(runtime, index, cancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                summary = Summary(entries.ToImmutable(), clock.Elapsed, stopped: true);
                Save(summary);
                return summary;
            }
            entries.Add(entry);
            summary = Summary(entries.ToImmutable(), clock.Elapsed, stopped: false);
            Save(summary);
            onSequence?.Invoke(entry, summary);
        }
        return summary;
    }

    private CampaignSummary Summary(ImmutableArray<CampaignEntry> entries, TimeSpan elapsed, bool stopped) =>
        new(settings.SeedText, settings.Runs, settings.Family, settings.Shard, CampaignSequences.Profile, entries, elapsed.TotalSeconds, stopped);

    private void Save(CampaignSummary summary)
    {
        WriteAtomically(Path.Combine(settings.Directory, CampaignSummary.FileName), summary.ToJson());
        WriteAtomically(Path.Combine(settings.Directory, CampaignReportPage.FileName), CampaignReportPage.Render(summary));
    }

    /// <summary>Writes a file through a temporary file in the same folder and a rename: a reader never sees half of it.</summary>
    public static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>One sequence; null when cancelled before it finished.</summary>
    private async Task<CampaignEntry?> RunOneAsync(ModelRuntime runtime, long index, CancellationToken cancellationToken)
    {
        var sequence = CampaignSequences.At(settings.Family, settings.Seed, index);
        var replay = CampaignSequences.PointOf(settings.Seed, index).ToString();
        var folder = Path.Combine("sequences", index.ToString("D5", System.Globalization.CultureInfo.InvariantCulture));
        var directory = Path.Combine(settings.Directory, folder);
        var config = Counterexample.Describe(sequence.Config) + (sequence.Config.PostgresMajor == 15 ? "" : $", postgres {sequence.Config.PostgresMajor}");
        log($"sequence {index} (replay --seed {replay}{CampaignSequences.FamilySuffix(settings.Family)}): {sequence.Steps.Length} steps, {config}");
        var run = await RunOnBothAsync(runtime, sequence, directory, writeArtifacts: true, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            return null;
        }
        var (report, error, seconds, bringUp) = run.Value;
        if (report is null)
        {
            log($"sequence {index}: ERROR after {seconds:0.0} s: {error}");
            return new CampaignEntry(index, replay, sequence.Steps.Length, config, CampaignVerdict.Error, null, null, [], [], error,
                seconds, bringUp, folder);
        }
        if (report.FirstDisagreement is not { } first)
        {
            return new CampaignEntry(index, replay, sequence.Steps.Length, config, CampaignVerdict.Agree, null, null, [], [], null,
                seconds, bringUp, folder);
        }
        var fields = first.Differences.Select(CampaignEntry.FieldOf).Distinct().ToImmutableArray();
        var entry = new CampaignEntry(index, replay, sequence.Steps.Length, config, CampaignVerdict.Disagree, first.Index,
            first.Model.Result.Step.Kind, fields, first.Differences, null, seconds, bringUp, folder);
        log($"sequence {index}: {report.Verdict}");
        if (settings.ShrinkReplays > 0 && !cancellationToken.IsCancellationRequested)
        {
            entry = entry with { Shrunk = Shrink(runtime, sequence, first, fields, directory, folder, index, cancellationToken) };
        }
        return entry;
    }

    /// <summary>
    /// Runs <paramref name="sequence"/> on the model and a fresh real cluster: the report, or the error that kept reality
    /// from running it; null when cancelled. The cluster is removed before this returns.
    /// </summary>
    private async Task<(ConformanceReport? Report, string? Error, double Seconds, double BringUpSeconds)?> RunOnBothAsync(
        ModelRuntime runtime, Sequence sequence, string directory, bool writeArtifacts, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var bringUp = 0.0;
        ConformanceSession? session = null;
        try
        {
            session = await ConformanceSession.StartAsync(
                sequence, line => log($"    {line}"), runtime: runtime, spilo: SpiloPolicy.Postgres17OnDebian, cancellationToken: cancellationToken).ConfigureAwait(false);
            bringUp = clock.Elapsed.TotalSeconds;
            var report = await session.RunAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (writeArtifacts)
            {
                if (report.Agrees)
                {
                    ArtifactWriter.Write(directory, sequence, report.Model, report.Reality, report);
                }
                else
                {
                    await session.WriteArtifactsAsync(directory, report, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }
            }
            return (report, null, clock.Elapsed.TotalSeconds, bringUp);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (DockerEngineUnavailableException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (writeArtifacts)
            {
                System.IO.Directory.CreateDirectory(directory);
                SequenceFile.Save(sequence, Path.Combine(directory, "sequence.json"));
                File.WriteAllText(Path.Combine(directory, "error.txt"), e.ToString());
                if (session is not null)
                {
                    await session.WriteLogsAsync(directory, CancellationToken.None).ConfigureAwait(false);
                }
            }
            return (null, e.Message.Split('\n')[0].TrimEnd(), clock.Elapsed.TotalSeconds, bringUp);
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Shrinks a disagreement on reality within the budget and writes the shortest sequence that still disagrees in one
    /// of <paramref name="fields"/> as <c>shrunk.json</c>, a corpus-ready file whose origin names the campaign and index.
    /// </summary>
    private ShrunkDisagreement Shrink(
        ModelRuntime runtime, Sequence sequence, StepComparison first, ImmutableArray<string> fields, string directory, string folder, long index,
        CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var budget = settings.ShrinkTime ?? TimeSpan.FromMinutes(30);
        var exhausted = false;
        var kept = first.Differences;
        log($"sequence {index}: shrinking on reality (at most {settings.ShrinkReplays} replays, {budget.TotalMinutes:0} min), keeping candidates that still disagree in: {string.Join(", ", fields)}");
        var (shrunk, replays) = SequenceShrinker.Minimise(sequence, first.Index, candidate =>
        {
            if (cancellationToken.IsCancellationRequested || deadline.Elapsed > budget)
            {
                exhausted = true;
                return null;
            }
            var run = RunOnBothAsync(runtime, candidate, directory, writeArtifacts: false, cancellationToken).GetAwaiter().GetResult();
            if (run?.Report?.FirstDisagreement is { } d && d.Differences.Any(x => fields.Contains(CampaignEntry.FieldOf(x))))
            {
                log($"    candidate of {candidate.Steps.Length} steps still disagrees at step {d.Index}");
                kept = d.Differences;
                return d.Index;
            }
            log($"    candidate of {candidate.Steps.Length} steps: {(run?.Report is { } r ? (r.Agrees ? "agrees" : "disagrees elsewhere") : run?.Error ?? "stopped")}");
            return null;
        }, settings.ShrinkReplays);
        exhausted |= replays >= settings.ShrinkReplays;
        var file = Path.Combine(folder, "shrunk.json");
        var described = shrunk with
        {
            Description = $"Shrunk on reality: {kept.FirstOrDefault() ?? "disagreement"}".Replace('\n', ' '),
            Origin = $"conform campaign seed {settings.SeedText}{CampaignSequences.FamilySuffix(settings.Family)}, index {index}, shrunk from {sequence.Steps.Length} to {shrunk.Steps.Length} steps in {replays} replays on model and reality",
        };
        SequenceFile.Save(described, Path.Combine(settings.Directory, file));
        log($"sequence {index}: shrunk to {shrunk.Steps.Length} steps in {replays} replays: {file}");
        return new ShrunkDisagreement(file, shrunk.Steps.Length, replays, exhausted);
    }
}
