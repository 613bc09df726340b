using System.Diagnostics;
using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Model;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.RealCluster.Docker;
using PatroniModel.RealCluster.Evidence;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Sequences;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// Replays a corpus sequence on a fresh real cluster built from the sequence's own configuration (pg1 bootstraps as
/// leader, like the model) and on the model, step by step, through <see cref="ConformanceRunner"/>. Prints every
/// comparison and the verdict; on a disagreement or a failure leaves the evidence (sequence, histories, timeline page,
/// every container's log) in <c>artifacts/e2e/conformance/&lt;name&gt;/&lt;utc&gt;/</c>.
/// </summary>
public static class ConformanceReplay
{
    /// <summary>The seed the model clusters are built with (the property suite's <c>SequenceRunner.ClusterSeed</c>).</summary>
    public const int ModelSeed = 1;

    /// <summary>tests/E2E/Corpus in the repository (found by walking up to PatroniModel.sln).</summary>
    public static string CorpusDirectory
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "PatroniModel.sln")))
                {
                    return Path.Combine(directory.FullName, "tests", "E2E", "Corpus");
                }
            }
            throw new InvalidOperationException($"PatroniModel.sln not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Loads and validates one corpus file by name.</summary>
    public static Sequence Load(string file)
    {
        var path = Path.Combine(CorpusDirectory, file);
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
        using var runtime = new ModelRuntime();
        using var modelCluster = runtime.CreateCluster(sequence.Config, ModelSeed, options);
        var model = FollowingModelCluster.Follow(modelCluster);
        PatroniCluster real;
        try
        {
            var builder = PatroniClusterBuilder.From(sequence.Config).WithLog(line => Write($"   {line}"));
            if (builder.SpiloImage is not null && sequence.Config.PostgresMajor != ClusterConfig.Default.PostgresMajor)
            {
                // The Spilo flavor (PATRONI_MODEL_SPILO_IMAGE) is configured for PostgreSQL 15; postgres 17 runs on the Debian 13 image.
                Write($"   postgres {sequence.Config.PostgresMajor}: on the Debian-built image, not the Spilo flavor");
                builder = builder.WithSpiloImage(null);
            }
            real = await (configure is null ? builder : configure(builder)).BuildAsync();
        }
        catch (DockerEngineUnavailableException e)
        {
            throw new XunitException(e.Message);
        }
        var bringUp = watch.Elapsed;
        ConformanceReport? report = null;
        await using (real)
        {
            try
            {
                report = await ConformanceRunner.RunAsync(sequence, model, reality is null ? real : reality(real), comparison => Print(comparison, Write));
            }
            catch (Exception e)
            {
                Write($"   the run failed: {e.Message}");
                Write($"   evidence: {await real.SaveEvidenceAsync($"conformance/{name}", e)}");
                throw;
            }
            finally
            {
                Write($"== {name}: {(report is null ? "FAILED" : report.Verdict)}");
            }
            if (!report.Agrees)
            {
                Write($"   evidence: {await SaveArtifactsAsync(name, report, real)}");
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

    /// <summary>Writes the sequence, both histories, the comparison, timeline.html and each container's log.</summary>
    public static async Task<string> SaveArtifactsAsync(string name, ConformanceReport report, PatroniCluster? real = null)
    {
        var directory = ArtifactWriter.CreateDirectory(Path.Combine("e2e", "conformance", name), DateTimeOffset.UtcNow, ArtifactDirectory.Root);
        ArtifactWriter.Write(directory, report.Sequence, report.Model, report.Reality, report);
        if (real is not null)
        {
            foreach (var member in real.Members.Append(real.Etcd))
            {
                string log;
                try
                {
                    log = await real.ReadLogAsync(member);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    log = $"(log not available: {e.Message})";
                }
                await File.WriteAllTextAsync(Path.Combine(directory, $"{member.Name}.log"), log);
            }
        }
        return directory;
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
