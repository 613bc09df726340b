using System.Collections.Immutable;
using System.Net;
using System.Text;
using PatroniModel.Conformance.Artifacts;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Artifacts;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Histories;
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

    private static MemberObservation Member(string name, MemberRole role, ulong lsn, MemberState state = MemberState.Running, int timeline = 1, params (string Name, ulong At)[] slots) =>
        state == MemberState.Running
            ? new(name, role, state, timeline, new Lsn(lsn), role == MemberRole.Leader, role == MemberRole.Replica,
                [.. slots.Select(s => new SlotObservation(s.Name, new Lsn(s.At), new Lsn(s.At)))], "d", 1)
            : new(name, MemberRole.Unknown, state, 0, Lsn.Zero, false, false, [], "", 0);

    private static Observation At(long milliseconds, string? leader, ulong? consumed, params MemberObservation[] members) =>
        new(milliseconds, leader, [.. members], consumed is { } c ? [new ConsumerPosition("s1", new Lsn(c), 1)] : [], 0, []);

    private static readonly ImmutableArray<Step> StorySteps =
        [new CreateSlot("s1"), new Write(10), new Consume("s1"), new Write(20), new Kill("pg1"), new Settle(), new Reconcile("s1")];

    private static Sequence Story() => new(new ClusterConfig { Members = 3 }, StorySteps, "the leader dies after a consume: the slot is lost", "story");

    private static readonly ReconcileObservation StoryGap =
        new("s1", ReconcileOutcome.RecreatedWithGap, "pg2", new Lsn(0x3000800), new Lsn(0x3001100), new Lsn(0x3000800), new Lsn(0x3001100), 0x900, 0, null, true);

    /// <summary>
    /// The story on one side: create s1 on pg1, write, consume to 0/3000800, write to 0/3001000, kill the leader pg1, settle
    /// (pg2 leads on timeline 2), reconcile (a gap 0/3000800..0/3001100); observation times from <paramref name="times"/>.
    /// </summary>
    private static ScriptedCluster StorySide(long[] times, ReconcileObservation reconcile)
    {
        Observation O(int k, string? leader, ulong? consumed, params MemberObservation[] members) => At(times[k], leader, consumed, members);
        var initial = O(0, "pg1", null, Member("pg1", MemberRole.Leader, 0x3000000), Member("pg2", MemberRole.Replica, 0x3000000), Member("pg3", MemberRole.Replica, 0x3000000));
        return new(new ClusterConfig { Members = 3 }, initial,
        [
            (StepResult.Ok(StorySteps[0]), O(1, "pg1", null, Member("pg1", MemberRole.Leader, 0x3000000, slots: ("s1", 0x3000000)), Member("pg2", MemberRole.Replica, 0x3000000), Member("pg3", MemberRole.Replica, 0x3000000))),
            (StepResult.Ok(StorySteps[1]), O(2, "pg1", null, Member("pg1", MemberRole.Leader, 0x3000800, slots: ("s1", 0x3000000)), Member("pg2", MemberRole.Replica, 0x3000800), Member("pg3", MemberRole.Replica, 0x3000800))),
            (StepResult.Ok(StorySteps[2]), O(3, "pg1", 0x3000800, Member("pg1", MemberRole.Leader, 0x3000800, slots: ("s1", 0x3000800)), Member("pg2", MemberRole.Replica, 0x3000800), Member("pg3", MemberRole.Replica, 0x3000800))),
            (StepResult.Ok(StorySteps[3]), O(4, "pg1", 0x3000800, Member("pg1", MemberRole.Leader, 0x3001000, slots: ("s1", 0x3000800)), Member("pg2", MemberRole.Replica, 0x3001000), Member("pg3", MemberRole.Replica, 0x3001000))),
            (StepResult.Ok(StorySteps[4]), O(5, "pg1", 0x3000800, Member("pg1", MemberRole.Unknown, 0, MemberState.Stopped), Member("pg2", MemberRole.Replica, 0x3001000), Member("pg3", MemberRole.Replica, 0x3001000))),
            (StepResult.Ok(StorySteps[5]), O(6, "pg2", 0x3000800, Member("pg1", MemberRole.Unknown, 0, MemberState.Stopped), Member("pg2", MemberRole.Leader, 0x3001100, timeline: 2), Member("pg3", MemberRole.Replica, 0x3001100, timeline: 2))),
            (StepResult.Ok(StorySteps[6]) with { Reconcile = reconcile }, O(7, "pg2", 0x3000800, Member("pg1", MemberRole.Unknown, 0, MemberState.Stopped), Member("pg2", MemberRole.Leader, 0x3001100, timeline: 2, slots: ("s1", 0x3001100)), Member("pg3", MemberRole.Replica, 0x3001100, timeline: 2))),
        ]);
    }

    private static readonly long[] ModelTimes = [0, 0, 1100, 1100, 3300, 3300, 12300, 12300];
    private static readonly long[] RealTimes = [40_000, 41_200, 42_900, 43_400, 46_100, 46_600, 70_800, 71_300];

    private static async Task<(Sequence Sequence, ConformanceReport Report, string Html)> RenderStoryAsync(ReconcileObservation? realReconcile = null)
    {
        var sequence = Story();
        var report = await ConformanceRunner.RunAsync(sequence, StorySide(ModelTimes, StoryGap), StorySide(RealTimes, realReconcile ?? StoryGap));
        return (sequence, report, TimelinePage.Render(sequence, report.Model, report.Reality, report.Steps));
    }

    /// <summary>The SVG chart of one side.</summary>
    private static string Chart(string html, string side)
    {
        var start = html.IndexOf($"class=\"timeline\" data-side=\"{side}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no chart for {side}");
        return html[start..html.IndexOf("</svg>", start, StringComparison.Ordinal)];
    }

    private static int Occurrences(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    [Fact]
    public async Task TimelinePage_DrawsEachSideOnItsOwnTimeAxis()
    {
        // Given a story that takes 12.3 virtual seconds on the model and 31.3 wall-clock seconds on reality
        // When the page is rendered
        var (_, _, html) = await RenderStoryAsync();

        // Then the model's axis runs in virtual seconds to 12 s, reality's in wall-clock seconds to 30 s, and the steps sit at their times
        var model = Chart(html, "model");
        var reality = Chart(html, "reality");
        Assert.Contains("model: virtual seconds (the model&#39;s scheduler) since the first observation", model);
        Assert.Contains("reality: wall-clock seconds since the first observation", reality);
        Assert.Contains(">0 s</text>", model);
        Assert.Contains(">12 s</text>", model);
        Assert.DoesNotContain(">30 s</text>", model);
        Assert.Contains(">30 s</text>", reality);
        Assert.Contains("step 6 at 12.3 s: reconcile s1 =&gt; gap", model);
        Assert.Contains("step 6 at 30.8 s: reconcile s1 =&gt; gap", reality);
        Assert.Contains("(the cluster's clock read 40.0 s then)", html);
    }

    [Fact]
    public async Task TimelinePage_DrawsMemberLanesWithTheirRolesAndFaults()
    {
        // Given the story, where pg1 leads, is killed, and pg2 takes over on timeline 2
        // When the page is rendered
        var (_, _, html) = await RenderStoryAsync();

        // Then pg1's lane shows it leading then stopped with the kill marked, and pg2's shows it leading on timeline 2
        var model = Chart(html, "model");
        Assert.Contains("<text class=\"lane\" x=\"122\" y=\"64\">pg1</text>", model);
        Assert.Contains("<rect class=\"leader\"", model);
        Assert.Contains(">leader tl1</text>", model);
        Assert.Contains("<rect class=\"stopped\"", model);
        Assert.Contains(">leader tl2</text>", model);
        Assert.Contains("<path class=\"fault\"", model);
        Assert.Contains("step 4 at 3.3 s: kill pg1 =&gt; ok", model);
        Assert.Contains("<span class=\"change\">pg1 leader tl1 -&gt; stopped</span>", html);
        Assert.Contains("<span class=\"change\">leader pg1 -&gt; pg2</span>", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("xmlns=\"http://www.w3.org/2000/svg\"", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TimelinePage_DrawsAWalLinePerMemberTheSlotOnItsHolderAndTheConsumer()
    {
        // Given the story, where s1 is on pg1 until pg1 dies, then re-created on pg2
        // When the page is rendered
        var (_, _, html) = await RenderStoryAsync();

        // Then the WAL chart has a polyline per member, the slot's position on each holder, the consumer's position,
        // and the slot lane says in plain text where the slot is and that it was dropped
        var model = Chart(html, "model");
        foreach (var member in new[] { "pg1", "pg2", "pg3" })
        {
            Assert.Contains($"<polyline class=\"wal member\" data-member=\"{member}\"", model);
        }
        Assert.Contains("<polyline class=\"wal slot\" data-member=\"pg1\" data-slot=\"s1\"", model);
        Assert.Contains("<polyline class=\"wal slot\" data-member=\"pg2\" data-slot=\"s1\"", model);
        Assert.Contains("<polyline class=\"wal consumer\" data-member=\"\" data-slot=\"s1\"", model);
        Assert.Contains(">s1 on pg1 (until 3.3 s)</text>", model);
        Assert.Contains(">s1 on pg2</text>", model);
        Assert.Contains(">consumer s1</text>", model);
        Assert.Contains(">slot s1</text>", model);
        Assert.Contains(">on pg1</text>", model);
        Assert.Contains("<rect class=\"slot-dropped\"", model);
        Assert.Contains(">dropped</text>", model);
        Assert.Contains("<span class=\"change\">s1 on pg1 -&gt; dropped</span>", html);
        Assert.Contains(">pg2 tl2</text>", model);
    }

    [Fact]
    public async Task TimelinePage_ShadesTheGapTheReconcilerReportedWithItsSizeInBytes()
    {
        // Given the story, whose reconcile reports a gap 0/3000800..0/3001100 (2,304 bytes)
        // When the page is rendered
        var (_, _, html) = await RenderStoryAsync();

        // Then each side's WAL chart has a shaded gap band labelled with its range and size, the reconciler lane says the
        // size, and the step's cell carries it
        foreach (var side in new[] { "model", "reality" })
        {
            var chart = Chart(html, side);
            Assert.Contains("<rect class=\"band gap\"", chart);
            Assert.Contains(">gap 0/3000800..0/3001100 (2,304 B) in s1, step 6</text>", chart);
            Assert.Contains(">s1: gap 2,304 B</text>", chart);
        }
        Assert.Contains("<td class=\"gap\">reconcile s1 =&gt; gap 0/3000800..0/3001100 (2304 B) on pg2 (unprotected)", html);
    }

    [Fact]
    public void TimelinePage_ShadesThePhantomsOfADivergedConsumerWithTheirSize()
    {
        // Given a reconcile that finds the consumer at 0/3000800 past the fork of the leader's timeline at 0/3000400
        var sequence = new Sequence(new ClusterConfig { Members = 2 }, [new Write(1), new Reconcile("s1")], "diverged");
        var before = At(0, "pg2", 0x3000800, Member("pg1", MemberRole.Unknown, 0, MemberState.Stopped), Member("pg2", MemberRole.Leader, 0x3000600, timeline: 2));
        var after = before with { AtMilliseconds = 500, Members = [before.Members[0], Member("pg2", MemberRole.Leader, 0x3000700, timeline: 2, slots: ("s1", 0x3000700))] };
        var diverged = new ReconcileObservation("s1", ReconcileOutcome.Diverged, "pg2", new Lsn(0x3000800), null, null, null, 0, 0, new Lsn(0x3000400), false);
        var model = new SideHistory("model", before,
        [
            new StepRecord(0, StepResult.Ok(sequence.Steps[0]), before, before with { AtMilliseconds = 300 }),
            new StepRecord(1, StepResult.Ok(sequence.Steps[1]) with { Reconcile = diverged }, before with { AtMilliseconds = 300 }, after),
        ]);

        // When the page is rendered
        var html = TimelinePage.Render(sequence, model);

        // Then the WAL chart has a phantom band labelled with the range and its 1,024 bytes, and the reconciler lane says so
        var chart = Chart(html, "model");
        Assert.Contains("<rect class=\"band phantom\"", chart);
        Assert.Contains(">phantoms 0/3000400..0/3000800 (1,024 B) in s1, step 1</text>", chart);
        Assert.Contains(">s1: phantoms 1,024 B</text>", chart);
        Assert.Contains("<td class=\"phantom\">reconcile s1 =&gt; diverged at 0/3000400: phantoms 0/3000400..0/3000800 on pg2", html);
    }

    [Fact]
    public async Task TimelinePage_OnADisagreement_MarksTheStepWithItsDifferences()
    {
        // Given a reality whose reconcile found the slot where the model reports a gap
        var found = StoryGap with { Outcome = ReconcileOutcome.Found, GapStart = null, GapEnd = null, GapBytes = 0 };

        // When the page is rendered
        var (_, report, html) = await RenderStoryAsync(found);

        // Then the verdict, the step's row and both charts mark step 6 with the differences
        var difference = report.Steps[6].Differences[0];
        Assert.Contains("reconcile s1 outcome: model RecreatedWithGap, reality Found", difference);
        Assert.Contains("<p class=\"disagree\" id=\"verdict\">model and reality DISAGREE on", html);
        Assert.Contains($"<a href=\"#step-6\">step 6 (reconcile s1)</a>: {WebUtility.HtmlEncode(difference)}", html);
        Assert.Contains($"<td class=\"disagree\">&#x2260; <span class=\"change\">{WebUtility.HtmlEncode(difference)}</span>", html);
        Assert.Contains("<td class=\"ok\">reconcile s1 =&gt; found on pg2 (unprotected)<span class=\"change\">s1 missing -&gt; on pg2</span></td>", html);
        foreach (var side in new[] { "model", "reality" })
        {
            Assert.Contains("<rect class=\"disagree\"", Chart(html, side));
            Assert.Contains("&#x2260; step 6", Chart(html, side));
        }
    }

    [Fact]
    public void TimelinePage_ShowsTheClusterConfiguration()
    {
        // Given a PostgreSQL 17 cluster on etcd3 with synchronous mode, a permanent slot, an ignored slot and its own timings
        var config = new ClusterConfig
        {
            Members = 3, PostgresMajor = 17, Dcs = DcsFlavor.Etcd3, SynchronousMode = SynchronousMode.On, PermanentSlots = ["s1"],
            IgnoreSlots = ["s2"], Ttl = 20, LoopWait = 5, RetryTimeout = 6, SynchronizedStandbySlots = true,
        };
        var sequence = new Sequence(config, [new Write(1), new PatchConfig(new ConfigPatch { IgnoreSlots = ["s3"] })], "configuration");
        var initial = At(0, "pg1", null, Member("pg1", MemberRole.Leader, 0x3000000));
        var model = new SideHistory("model", initial,
            [new StepRecord(0, StepResult.Ok(sequence.Steps[0]), initial, initial), new StepRecord(1, StepResult.Ok(sequence.Steps[1]), initial, initial)]);

        // When the page is rendered for the model alone
        var html = TimelinePage.Render(sequence, model);

        // Then the configuration table shows every setting, and the patch that changed it
        Assert.Contains("<tr><th>members</th><td>pg1, pg2, pg3</td></tr>", html);
        Assert.Contains("<tr><th>PostgreSQL</th><td>17 (failover slots, synced to the standbys)</td></tr>", html);
        Assert.Contains("<tr><th>DCS</th><td>etcd3 (v3 API)</td></tr>", html);
        Assert.Contains("<tr><th>synchronous_mode</th><td>on</td></tr>", html);
        Assert.Contains("<tr><th>permanent_slots</th><td>s1</td></tr>", html);
        Assert.Contains("<tr><th>ignore_slots</th><td>s2</td></tr>", html);
        Assert.Contains("<tr><th>ttl / loop_wait / retry_timeout</th><td>20 s / 5 s / 6 s</td></tr>", html);
        Assert.Contains("<tr><th>synchronized_standby_slots</th><td>every other member&#39;s physical slot</td></tr>", html);
        Assert.Contains("<tr><th>changed by</th><td>step 1: patch-config ignore_slots=[s3]</td></tr>", html);
        Assert.DoesNotContain("data-side=\"reality\"", html);
    }

    [Fact]
    public void TimelinePage_EscapesEveryValue()
    {
        // Given a description and a step detail with markup in them
        var sequence = new Sequence(new ClusterConfig { Members = 1 }, [new Write(1)], "<script>alert(1)</script>", "<b>origin</b>");
        var initial = At(0, "pg1", null, Member("pg1", MemberRole.Leader, 0x3000000));
        var model = new SideHistory("model", initial, [new StepRecord(0, StepResult.Failed(sequence.Steps[0], "<img src=x>"), initial, initial)]);

        // When the page is rendered
        var html = TimelinePage.Render(sequence, model);

        // Then none of it is markup
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>origin", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("failed: &lt;img src=x&gt;", html);
    }

    /// <summary>
    /// A long generated history: one-row writes on a three-member cluster, the leader killed at step <c>steps / 2</c> and the
    /// cluster settled after it, one disagreement at step 7,000; with <paramref name="faultEvery"/>, every so many steps
    /// pg3 is killed or started again. The model takes 100 virtual ms a write, reality 40-70 ms.
    /// </summary>
    internal static (Sequence Sequence, SideHistory Model, SideHistory Reality, ImmutableArray<StepComparison> Comparisons) LongHistory(
        int steps = 10_000, int faultEvery = 0)
    {
        var kill = steps / 2;
        bool Toggles(int i) => faultEvery > 0 && i % faultEvery == faultEvery - 1 && i != kill && i != kill + 1;
        var pg3Faults = 0;
        var sequence = new Sequence(new ClusterConfig { Members = 3 },
            [
                .. Enumerable.Range(0, steps).Select(i =>
                    i == kill ? new Kill("pg1")
                    : i == kill + 1 ? new Settle()
                    : Toggles(i) ? pg3Faults++ % 2 == 0 ? new Kill("pg3") : new Start("pg3")
                    : (Step)new Write(1)),
            ],
            "a long history", "generated");
        SideHistory Side(string name, Func<int, long> duration)
        {
            var lsn = 0x3000000UL;
            var at = 0L;
            var leader = "pg1";
            var timeline = 1;
            var pg3Stopped = false;
            Observation Observe() => At(at, leader, null,
            [
                .. sequence.Config.MemberNames.Select(m => (m == "pg1" && leader != "pg1") || (m == "pg3" && pg3Stopped)
                    ? Member(m, MemberRole.Unknown, 0, MemberState.Stopped)
                    : Member(m, m == leader ? MemberRole.Leader : MemberRole.Replica, lsn, timeline: timeline)),
            ]);
            var initial = Observe();
            var before = initial;
            var entries = ImmutableArray.CreateBuilder<StepRecord>(steps);
            for (var i = 0; i < steps; i++)
            {
                at += duration(i);
                if (i == kill)
                {
                    leader = "none";
                }
                else if (i == kill + 1)
                {
                    (leader, timeline) = ("pg2", 2);
                }
                else if (Toggles(i))
                {
                    pg3Stopped = sequence.Steps[i] is Kill;
                }
                else
                {
                    lsn += 0x98;
                }
                var after = Observe() with { Leader = leader == "none" ? null : leader };
                entries.Add(new StepRecord(i, StepResult.Ok(sequence.Steps[i]), before, after));
                before = after;
            }
            return new SideHistory(name, initial, entries.MoveToImmutable());
        }
        var model = Side("model", i => i == kill + 1 ? 12_000 : 100);
        var reality = Side("reality", i => i == kill + 1 ? 17_345 : 40 + i % 31);
        var comparisons = Enumerable.Range(0, steps)
            .Select(i => new StepComparison(i, model.Entries[i], reality.Entries[i], true,
                i == 7_000 ? ["rows on pg3: model 6998, reality 6997"] : [], []))
            .ToImmutableArray();
        return (sequence, model, reality, comparisons);
    }

    [Fact]
    public void TimelinePage_OfA10000StepHistory_CondensesTheQuietRunsAndStaysUnder300KB()
    {
        // Given 10,000 steps, nearly all of them writes that change nothing the lanes show
        var (sequence, model, reality, comparisons) = LongHistory();

        // When the page is rendered
        var html = TimelinePage.Render(sequence, model, reality, comparisons);

        // Then the quiet runs are one line each, the kill, the settle and the disagreement have rows of their own,
        // and the page is small
        Assert.Contains("steps 0-4,999: 5,000 writes, nothing else changed", html);
        Assert.Contains("<tr id=\"step-5000\">", html);
        Assert.Contains("<tr id=\"step-5001\">", html);
        Assert.Contains("steps 5,002-6,999: 1,998 writes, nothing else changed", html);
        Assert.Contains("<tr id=\"step-7000\">", html);
        Assert.Contains("steps 7,001-9,999: 2,999 writes, nothing else changed", html);
        Assert.Equal(6, Occurrences(html, "<tr id=\"step"));
        var bytes = Encoding.UTF8.GetByteCount(html);
        Assert.True(bytes < 300_000, $"the page is {bytes} bytes");
        foreach (var side in new[] { "model", "reality" })
        {
            Assert.Contains("<polyline class=\"wal member\" data-member=\"pg1\"", Chart(html, side));
        }
    }

    [Fact]
    public void TimelinePage_OfA10000StepHistoryWithAFaultEvery10Steps_KeepsTheKeyStepsAndStaysUnder600KB()
    {
        // Given 10,000 steps where pg3 is killed or started every 10 steps: 2,000 steps that each change a lane, over the row budget
        var (sequence, model, reality, comparisons) = LongHistory(faultEvery: 10);

        // When the page is rendered
        var html = TimelinePage.Render(sequence, model, reality, comparisons);

        // Then the leader's kill, the settle and the disagreement keep their rows, the steps between them are lines that
        // count what changed, pg3's flapping lane is one band that says so, and the page is well under a megabyte
        Assert.Contains("<tr id=\"step-5000\">", html);
        Assert.Contains("<tr id=\"step-5001\">", html);
        Assert.Contains("<tr id=\"step-7000\">", html);
        Assert.Contains("<td class=\"busy\">steps 0-4,999: 4,500 writes, 250 kills, 250 starts; on the model pg3 changed 500 times</td>", html);
        Assert.Contains("<td class=\"busy\">steps 7,001-9,999: 2,699 writes, 150 kills, 150 starts; on reality pg3 changed 300 times</td>", html);
        Assert.Equal(6, Occurrences(html, "<tr id=\"step"));
        Assert.Contains("<rect class=\"mixed\"", Chart(html, "model"));
        Assert.Contains("pg3 changed ", Chart(html, "model"));
        var bytes = Encoding.UTF8.GetByteCount(html);
        Assert.True(bytes < 600_000, $"the page is {bytes} bytes");
    }

    [Fact]
    public void StepRuns_CondenseQuietRunsOfEightOrMoreAndKeepShorterOnesAsSteps()
    {
        // Given twenty steps (ten writes, the kill, the settle, eight writes) and twelve (six writes, the kill, the settle, four writes)
        var (_, twenty, _, _) = LongHistory(20);
        var (_, twelve, _, _) = LongHistory(12);

        // When they are condensed
        var long20 = StepRuns.Condense(20, [twenty], null);
        var short12 = StepRuns.Condense(12, [twelve], null);

        // Then the runs of ten and eight writes are one run each, the shorter runs stay single steps
        Assert.Equal(
            [new StepRun(0, 9, StepRunKind.Quiet), new StepRun(10, 10, StepRunKind.Step), new StepRun(11, 11, StepRunKind.Step), new StepRun(12, 19, StepRunKind.Quiet)],
            long20.ToArray());
        Assert.Equal(12, short12.Length);
        Assert.All(short12, r => Assert.Equal(StepRunKind.Step, r.Kind));
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
