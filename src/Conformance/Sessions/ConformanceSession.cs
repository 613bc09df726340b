using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Model;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Conformance.Sessions;

/// <summary>
/// One sequence on the model and on a fresh real cluster built from the sequence's own configuration (pg1 bootstraps as
/// leader, as on the model), compared step by step through <see cref="ConformanceRunner"/>: the one setup that the CLI's
/// <c>replay --real</c> and the E2E corpus tests share. The model is built with <see cref="ModelCluster.DefaultSeed"/> and
/// follows reality's leader choice (<see cref="LeaderFollowingCluster"/>). The Spilo flavor
/// (<c>PATRONI_MODEL_SPILO_IMAGE</c>) is configured for PostgreSQL 15: a <c>"postgres": 17</c> sequence is refused with
/// it (the builder's one-line error, what a user who asked for Spilo must see), or, with <see cref="SpiloPolicy.Postgres17OnDebian"/>
/// (the corpus, which must run every sequence), runs on the Debian 13 image instead.
/// </summary>
public sealed class ConformanceSession : IAsyncDisposable
{
    private readonly ModelRuntime? _ownRuntime;

    private ConformanceSession(Sequence sequence, ModelRuntime? ownRuntime, ModelCluster model, PatroniCluster reality)
    {
        Sequence = sequence;
        _ownRuntime = ownRuntime;
        Model = model;
        Reality = reality;
    }

    public Sequence Sequence { get; }

    /// <summary>The model cluster (following reality's leader choice during <see cref="RunAsync"/>).</summary>
    public ModelCluster Model { get; }

    /// <summary>The real cluster.</summary>
    public PatroniCluster Reality { get; }

    /// <summary>
    /// Builds the model and the real cluster for <paramref name="sequence"/>. <paramref name="options"/> builds a different
    /// model (a planted bug, say); <paramref name="configure"/> adjusts the real cluster's builder; <paramref name="runtime"/>
    /// is an ActorSystem to build the model on (else the session makes and disposes its own); <paramref name="spilo"/> says
    /// what a PostgreSQL 17 sequence does with the Spilo flavor. Progress lines go to
    /// <paramref name="log"/>. A Docker engine that does not answer, or a configuration the real cluster cannot run, throws
    /// as <see cref="PatroniClusterBuilder.BuildAsync"/> does.
    /// </summary>
    public static async Task<ConformanceSession> StartAsync(
        Sequence sequence,
        Action<string> log,
        ModelOptions? options = null,
        Func<PatroniClusterBuilder, PatroniClusterBuilder>? configure = null,
        ModelRuntime? runtime = null,
        SpiloPolicy spilo = SpiloPolicy.RefusePostgres17,
        CancellationToken cancellationToken = default)
    {
        var builder = PatroniClusterBuilder.From(sequence.Config).WithLog(log);
        if (spilo == SpiloPolicy.Postgres17OnDebian && builder.SpiloImage is not null && sequence.Config.PostgresMajor != ClusterConfig.Default.PostgresMajor)
        {
            log($"postgres {sequence.Config.PostgresMajor}: on the Debian-built image, not the Spilo flavor");
            builder = builder.WithSpiloImage(null);
        }
        var reality = await (configure is null ? builder : configure(builder)).BuildAsync(cancellationToken).ConfigureAwait(false);
        var own = runtime is null ? new ModelRuntime() : null;
        try
        {
            // Reality is built first: the model starts with the synchronous standby the real bring-up picked (a choice
            // reality makes by connection order), and follows reality's later picks through the runner.
            await reality.ObserveAsync(cancellationToken).ConfigureAwait(false);
            var modelOptions = (options ?? ModelOptions.Default) with { PreferredSyncStandby = reality.SyncStandby };
            var model = (runtime ?? own!).CreateCluster(sequence.Config, ModelCluster.DefaultSeed, modelOptions);
            return new ConformanceSession(sequence, own, model, reality);
        }
        catch
        {
            own?.Dispose();
            await reality.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs the sequence on both sides, step by step; <paramref name="onStep"/> sees every comparison as it is made;
    /// <paramref name="reality"/> wraps the real cluster (a test that interferes with reality behind the sequence's back).
    /// </summary>
    public Task<ConformanceReport> RunAsync(
        Action<StepComparison>? onStep = null, Func<PatroniCluster, ICluster>? reality = null, CancellationToken cancellationToken = default) =>
        ConformanceRunner.RunAsync(
            Sequence, new LeaderFollowingCluster(Model, member => Model.PreferredCandidate = member, member => Model.PreferredSyncStandby = member),
            reality is null ? Reality : reality(Reality), onStep, cancellationToken);

    /// <summary>Writes every container's log (<c>pg1.log</c> ..., <c>etcd1.log</c>) into <paramref name="directory"/>.</summary>
    public async Task WriteLogsAsync(string directory, CancellationToken cancellationToken = default)
    {
        foreach (var member in Reality.Members.Append(Reality.Etcd))
        {
            string log;
            try
            {
                log = await Reality.ReadLogAsync(member, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log = $"(log not available: {e.Message})";
            }
            await File.WriteAllTextAsync(Path.Combine(directory, $"{member.Name}.log"), log, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the report's evidence (<see cref="ArtifactWriter"/>) and every container's log into <paramref name="directory"/>.</summary>
    public async Task WriteArtifactsAsync(string directory, ConformanceReport report, SideHistory? model = null, CancellationToken cancellationToken = default)
    {
        ArtifactWriter.Write(directory, Sequence, model ?? report.Model, report.Reality, report);
        await WriteLogsAsync(directory, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Reality.DisposeAsync().ConfigureAwait(false);
        Model.Dispose();
        _ownRuntime?.Dispose();
    }
}

/// <summary>What a <see cref="ConformanceSession"/> does with a PostgreSQL 17 sequence when the Spilo flavor (configured for 15) is asked for.</summary>
public enum SpiloPolicy
{
    /// <summary>Refuse it in one line (the builder's error): <c>patroni-model replay --real</c>.</summary>
    RefusePostgres17,

    /// <summary>Run it on the Debian 13 image instead, and say so: the E2E corpus, which runs every sequence.</summary>
    Postgres17OnDebian,
}
