using System.Collections.Immutable;
using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Artifacts;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Wal;
using PatroniModel.Tests.ConformanceTests.Comparing;
using Xunit;

namespace PatroniModel.Tests.ConformanceTests.Artifacts;

public sealed class TimelinePageTests
{
    /// <summary>A scripted cluster: answers each step with the next prepared observation (a test double for the runner only).</summary>
    private sealed class ScriptedCluster(ClusterConfig config, Observation initial, IReadOnlyList<(StepResult Result, Observation After)> script) : ICluster
    {
        private int next = -1;

        public ClusterConfig Config => config;

        public Task<StepResult> ApplyAsync(Step step, CancellationToken cancellationToken = default)
        {
            next++;
            Assert.Equal(step, script[next].Result.Step);
            return Task.FromResult(script[next].Result);
        }

        public Task<Observation> ObserveAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult(next < 0 ? initial : script[next].After);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static readonly Observation Before = ObservationAbstractionTests.Cluster("pg1",
        ObservationAbstractionTests.Member("pg1", MemberRole.Leader, slots: ["s1"]),
        ObservationAbstractionTests.Member("pg2", MemberRole.Replica));

    private static readonly Observation AfterKill = ObservationAbstractionTests.Cluster("pg1",
        ObservationAbstractionTests.Member("pg1", MemberRole.Unknown, MemberState.Stopped),
        ObservationAbstractionTests.Member("pg2", MemberRole.Replica));

    private static readonly Observation AfterSettle = ObservationAbstractionTests.Cluster("pg2",
        ObservationAbstractionTests.Member("pg1", MemberRole.Unknown, MemberState.Stopped),
        ObservationAbstractionTests.Member("pg2", MemberRole.Leader, timeline: 2));

    private static Sequence KillAndReconcile() => new(new ClusterConfig { Members = 2 },
        [new Kill("pg1"), new Settle(), new Reconcile("s1")], "kill the leader, reconcile", "1,2,3");

    private static ReconcileObservation Gap(ReconcileOutcome outcome) =>
        new("s1", outcome, "pg2", new Lsn(0x100), new Lsn(0x200), new Lsn(0x100), new Lsn(0x200), 0x100, 0, null, true);

    private static ScriptedCluster Side(ReconcileOutcome outcome) => new(new ClusterConfig { Members = 2 }, Before,
    [
        (StepResult.Ok(new Kill("pg1")), AfterKill),
        (StepResult.Ok(new Settle()), AfterSettle),
        (StepResult.Ok(new Reconcile("s1")) with { Reconcile = Gap(outcome) }, AfterSettle),
    ]);

    [Fact]
    public async Task ConformanceRunner_OnSidesThatDifferInTheOutcome_ReportsTheFirstDisagreement()
    {
        // Given a model and a reality that agree until the reconciler's outcome
        var sequence = KillAndReconcile();

        // When the sequence runs on both
        var report = await ConformanceRunner.RunAsync(sequence, Side(ReconcileOutcome.RecreatedWithGap), Side(ReconcileOutcome.Found));

        // Then the verdict names step 2 and the outcome difference
        Assert.False(report.Agrees);
        Assert.Equal(2, report.FirstDisagreement!.Index);
        Assert.StartsWith("verdict: DISAGREE at step 2 (reconcile s1): reconcile s1 outcome: model RecreatedWithGap, reality Found", report.Verdict);
    }

    [Fact]
    public async Task TimelinePage_ShowsALanePerMemberFaultMarksOutcomesAndDisagreements()
    {
        var sequence = KillAndReconcile();
        var report = await ConformanceRunner.RunAsync(sequence, Side(ReconcileOutcome.RecreatedWithGap), Side(ReconcileOutcome.Found));

        var html = TimelinePage.Render(sequence, report.Model, report.Reality, report.Steps);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<td class=\"lane\">pg1</td>", html);
        Assert.Contains("<td class=\"lane\">pg2</td>", html);
        Assert.Contains("class=\"stopped fault\"", html);
        Assert.Contains("class=\"leader\"", html);
        Assert.Contains(">gap</td>", html);
        Assert.Contains(">found</td>", html);
        Assert.Contains("class=\"disagree\"", html);
        Assert.Contains("<h2>model</h2>", html);
        Assert.Contains("<h2>reality</h2>", html);
        Assert.DoesNotContain("<script", html);
    }

    [Fact]
    public async Task ArtifactWriter_WritesSequenceHistoryJsonlAndTimeline()
    {
        var sequence = KillAndReconcile();
        var report = await ConformanceRunner.RunAsync(sequence, Side(ReconcileOutcome.RecreatedWithGap), Side(ReconcileOutcome.RecreatedWithGap));
        var root = Path.Combine(Path.GetTempPath(), $"pm-art-{Guid.NewGuid():N}");
        try
        {
            var directory = ArtifactFolder.Create("replay", DateTimeOffset.UnixEpoch, root);

            ArtifactWriter.Write(directory, sequence, report.Model, report.Reality, report);

            Assert.True(report.Agrees, report.Verdict);
            Assert.Equal(SequenceFile.Write(sequence), File.ReadAllText(Path.Combine(directory, "sequence.json")));
            var history = File.ReadAllText(Path.Combine(directory, "history.txt"));
            Assert.Contains("  0 kill pg1 => ok", history);
            Assert.Contains("verdict: model and reality agree on all 3 steps", history);
            var jsonl = File.ReadAllLines(Path.Combine(directory, "history.jsonl"));
            Assert.Equal(6, jsonl.Length);
            Assert.Contains("\"outcome\":\"recreated_with_gap\"", jsonl[2]);
            Assert.Contains("\"gap_start\":\"0/100\"", jsonl[2]);
            Assert.True(File.Exists(Path.Combine(directory, "timeline.html")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
