using System.Diagnostics;
using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Conformance.Sessions;
using PatroniModel.Model;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.RealCluster.Docker;
using PatroniModel.Scenarios.Artifacts;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Sequences;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// Replays a corpus sequence on a fresh real cluster built from the sequence's own configuration (pg1 bootstraps as
/// leader, like the model) and on the model, step by step, through <see cref="ConformanceSession"/>. Prints every
/// comparison and the verdict; on a disagreement or a failure leaves the evidence (sequence, histories, timeline page,
/// every container's log) in <c>artifacts/e2e/conformance/&lt;name&gt;/&lt;utc&gt;/</c>.
/// </summary>
public static class ConformanceReplay
{
    /// <summary>The seed the model clusters are built with.</summary>
    public const int ModelSeed = ModelCluster.DefaultSeed;

    /// <summary>Loads and validates one corpus file by name.</summary>
    public static Sequence Load(string file)
    {
        var path = Path.Combine(Corpus.Directory, file);
        var sequence = SequenceFile.Load(path);
        SequenceFile.Validate(sequence, path);
        return sequence;
    }

    /// <summary>
    /// Runs <paramref name="sequence"/> on a fresh real cluster and on a model built with <paramref name="options"/>
    /// (the correct model by default), and returns the step-by-step comparison. <paramref name="configure"/> adjusts
    /// the real cluster's builder (the Spilo flavor, say); <paramref name="reality"/> wraps the real cluster (a test that
    /// interferes with reality behind the sequence's back).
    /// </summary>
    public static async Task<ConformanceReport> RunAsync(
        string name, Sequence sequence, ITestOutputHelper output, ConformanceTimings timings, ModelOptions? options = null,
        Func<PatroniClusterBuilder, PatroniClusterBuilder>? configure = null, Func<PatroniCluster, ICluster>? reality = null)
    {
        void Write(string line)
        {
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
            }
        }
        var watch = Stopwatch.StartNew();
        Write($"== {name}: {sequence.Description}");
        Write($"   {sequence.Steps.Length} steps, {sequence.Config.Members} members, dcs {sequence.Config.Dcs}, synchronous_mode {sequence.Config.SynchronousMode}");
        ConformanceSession session;
        try
        {
            session = await ConformanceSession.StartAsync(sequence, line => Write($"   {line}"), options, configure, spilo: SpiloPolicy.Postgres17OnDebian);
        }
        catch (DockerEngineUnavailableException e)
        {
            throw new XunitException(e.Message);
        }
        var bringUp = watch.Elapsed;
        ConformanceReport? report = null;
        await using (session)
        {
            try
            {
                report = await session.RunAsync(comparison => Print(comparison, Write), reality);
            }
            catch (Exception e)
            {
                Write($"   the run failed: {e.Message}");
                Write($"   evidence: {await session.Reality.SaveEvidenceAsync($"conformance/{name}", e)}");
                throw;
            }
            finally
            {
                Write($"== {name}: {(report is null ? "FAILED" : report.Verdict)}");
            }
            if (!report.Agrees)
            {
                var directory = ArtifactFolder.Create(Path.Combine("e2e", "conformance", name), DateTimeOffset.UtcNow);
                await session.WriteArtifactsAsync(directory, report);
                Write($"   evidence: {directory}");
            }
            timings.Add(name, watch.Elapsed, bringUp, report.Agrees ? "agree" : "disagree");
            Write($"== {name}: {watch.Elapsed.TotalSeconds:F1}s (bring-up {bringUp.TotalSeconds:F1}s)");
        }
        return report;
    }

    /// <summary>Compares a recorded real history with a fresh model (no Docker): the same comparison, reality replayed.</summary>
    public static async Task<ConformanceReport> CompareWithModelAsync(
        Sequence sequence, SideHistory reality, ITestOutputHelper output, ModelOptions? options = null)
    {
        using var runtime = new ModelRuntime();
        using var modelCluster = runtime.CreateCluster(sequence.Config, ModelSeed, options);
        var model = FollowingModelCluster.Follow(modelCluster);
        var report = await ConformanceRunner.RunAsync(sequence, model, new RecordedCluster(sequence.Config, reality), comparison => Print(comparison, output.WriteLine));
        output.WriteLine(report.Verdict);
        return report;
    }

    private static void Print(StepComparison comparison, Action<string> write)
    {
        write($"{comparison.Index,3} reality: {comparison.Reality.Result}");
        write($"    model:   {comparison.Model.Result}");
        if (comparison.Agrees)
        {
            write($"    agree{(comparison.Stable ? " (stable)" : "")}");
            return;
        }
        write($"    reality after: {comparison.Reality.After}");
        write($"    model after:   {comparison.Model.After}");
        write($"    DISAGREE: {string.Join("; ", comparison.Differences)}");
    }
}
