using System.Collections.Immutable;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// After a step that writes WAL, the real driver lets streaming replicas catch up (a bounded wait,
/// <see cref="PatroniCluster.ReplicaCatchUpBound"/>) before the comparison reads which members hold the leader's rows:
/// asynchronous replication lags milliseconds, the model's is instant. The wait must not hide a real disagreement:
/// a replica that does not replay the rows is still named.
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed class ReplicaCatchUpTests(ConformanceTimings timings, ITestOutputHelper output)
{
    [Fact]
    public async Task WriteAfterSettle_ReplicaReplaysOrIsNamed_AgreesOnlyWhileReplicasReplay()
    {
        // Given: writes right after a settle (where corpus 01 once saw a replica holding 10 of 12 rows), then a replica
        // whose WAL replay is stopped behind the sequence's back before the third write
        var steps = ImmutableArray.Create<Step>(new Settle(), new Write(12), new Write(2), new Write(3));
        var sequence = new Sequence(ClusterConfig.Default, steps, "writes after a settle; pg2's replay stopped before the last");
        PausingReplayCluster? paused = null;

        // When it runs on a fresh real cluster and on the model
        var report = await ConformanceReplay.RunAsync("replica-catch-up", sequence, output, timings,
            reality: real => paused = new PausingReplayCluster(real, "pg2", pauseBeforeStep: 3));

        // Then: the writes while every replica replays agree, rows and all (stable comparisons)
        Assert.All(report.Steps.Take(3), s => Assert.True(s.Agrees && s.Stable, s.ToString()));
        // and the write that pg2 could not replay disagrees, naming the members that hold the leader's rows
        var last = report.Steps[3];
        Assert.True(last.Stable);
        Assert.Contains("members holding the leader's rows: model [pg1,pg2,pg3], reality [pg1,pg3]", last.Differences);
        Assert.NotNull(paused);
        Assert.True(paused!.Paused, "pg2's replay was never stopped");
    }

    /// <summary>A real cluster that stops one replica's WAL replay (SIGSTOP to its startup process) before a given step.</summary>
    private sealed class PausingReplayCluster(PatroniCluster real, string replica, int pauseBeforeStep) : ICluster
    {
        /// <summary>SIGSTOP to the PostgreSQL startup process (the one that replays WAL); its walreceiver keeps streaming.</summary>
        private const string StopStartupProcess = """
            found=0
            for p in /proc/[0-9]*; do
              if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q '^postgres: .*startup'; then kill -STOP "${p#/proc/}" && found=1; fi
            done
            [ "$found" = 1 ] || { echo "no startup process"; exit 1; }
            """;

        private int _next;

        public bool Paused { get; private set; }

        public ClusterConfig Config => real.Config;

        public async Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default)
        {
            if (_next++ == pauseBeforeStep)
            {
                var member = real.Members.Single(m => m.Name == replica);
                // Patroni resumes a paused replay (pg_wal_replay_pause) within a loop; a stopped startup process it does not see.
                var result = await real.ExecAsync(member, StopStartupProcess, cancellationToken);
                Assert.True(result.ExitCode == 0, $"stopping {replica}'s startup process: {result.Stdout} {result.Stderr}");
                Paused = true;
            }
            return await real.ApplyAsync(step, cancellationToken);
        }

        public Task<Observation> ObserveAsync(CancellationToken cancellationToken = default) => real.ObserveAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
