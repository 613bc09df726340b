using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>
/// Diverged on a real second timeline. The single Patroni member stays on timeline 1, so the leader's data directory is
/// copied (pg_basebackup), started as a standby and promoted: a real PostgreSQL on timeline 2 whose history file says
/// where timeline 1 ended. The endpoint reads <c>GET /cluster</c> from the real Patroni and its address map points the
/// leader session at the promoted copy, so IDENTIFY_SYSTEM and TIMELINE_HISTORY come from PostgreSQL itself.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class DivergenceTests(LocalPatroniCluster cluster)
{
    private async Task<(PromotedCopy Copy, NpgsqlLogSequenceNumber ForkPoint)> PromotedCopyAsync()
    {
        var copy = await cluster.PromotedCopyAsync();
        var history = await cluster.ScalarOnAsync<string>(copy.Port, "SELECT pg_read_file('pg_wal/00000002.history')");
        var fields = history.Split('\t');
        Assert.Equal("1", fields[0]);
        return (copy, NpgsqlLogSequenceNumber.Parse(fields[1]));
    }

    private PatroniRestEndpoint EndpointOnCopy(PromotedCopy copy) => cluster.NewEndpoint(_ => ("127.0.0.1", copy.Port));

    [Fact]
    public async Task EnsureSlot_WhenConsumerReadPastWhereTheLeadersTimelineForked_ReportsDivergedWithForkAndPhantoms()
    {
        // Given a leader on timeline 2 that forked from timeline 1 at F, and a consumer that read timeline 1 past F
        var (copy, fork) = await PromotedCopyAsync();
        var consumer = await cluster.MoveWalAsync();
        Assert.True(consumer > fork);
        var slot = cluster.UniqueSlot("diverged");
        using var endpoint = EndpointOnCopy(copy);

        // When
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(consumer, Timeline: 1));

        // Then the consumer holds F..consumer, which timeline 2 never had
        Assert.Equal(SlotOutcome.Diverged, report.Outcome);
        Assert.True(report.IsAlarm);
        Assert.Equal(2, report.Timeline);
        Assert.Equal(new TimelineFork(fork, 1, 2), report.Fork);
        WalRangeAssert.Exact(fork, consumer, report.Phantoms);
        Assert.Contains($"timeline 1 forked at {fork}", report.ToLogLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureSlot_WhenConsumerStoppedBeforeTheFork_DoesNotReportDivergence()
    {
        // Given a leader on timeline 2 that forked from timeline 1 at F, and a consumer that confirmed F itself on timeline 1
        var (copy, fork) = await PromotedCopyAsync();
        var slot = cluster.UniqueSlot("beforefork");
        using var endpoint = EndpointOnCopy(copy);

        // When the slot is (re-)created on the new timeline
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(fork, Timeline: 1));

        // Then no divergence: a plain re-creation, measured from the consumer's position
        Assert.Null(report.Fork);
        Assert.Equal(SlotOutcome.RecreatedWithGap, report.Outcome);
        Assert.Equal(2, report.Timeline);
        Assert.Equal(fork, report.Gap!.Start);
        Assert.Equal(await cluster.ScalarOnAsync<NpgsqlLogSequenceNumber>(copy.Port,
            "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1::name", slot), report.Gap.End);
    }

    [Fact]
    public async Task TimelineHistory_OnThePromotedServer_ReturnsTheSwitchPointOfItsHistoryFile()
    {
        // Given the promoted copy's history file, read by SQL
        var (copy, fork) = await PromotedCopyAsync();
        using var endpoint = EndpointOnCopy(copy);
        var leader = (await endpoint.GetClusterAsync()).Leader!;

        // When read through the replication protocol
        await using var session = await endpoint.ConnectAsync(leader);
        var identity = await session.IdentifySystemAsync();
        var history = await session.TimelineHistoryAsync(identity.Timeline);

        // Then
        Assert.Equal(2, identity.Timeline);
        Assert.Equal([new TimelineSwitch(1, fork)], history);
        Assert.Empty(await session.TimelineHistoryAsync(1));
    }

    [Fact]
    public async Task EnsureSlot_WhenConsumersTimelineIsNewerThanTheLeaders_ReportsDivergedAtAnUnknownPoint()
    {
        // Given the real Patroni leader on timeline 1 and a consumer that says it read timeline 2
        var slot = cluster.UniqueSlot("newertl");
        using var endpoint = cluster.NewEndpoint();
        var position = await cluster.CurrentWalLsnAsync();
        try
        {
            // When
            var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, new ConfirmedPosition(position, Timeline: 2));

            // Then timeline 2 is not in timeline 1's history: diverged, fork unknown
            Assert.Equal(SlotOutcome.Diverged, report.Outcome);
            Assert.Equal(new TimelineFork(null, 2, 1), report.Fork);
            Assert.Null(report.Phantoms);
            Assert.Contains("is not an ancestor of timeline 1", report.ToLogLine(), StringComparison.Ordinal);
        }
        finally
        {
            await cluster.DropSlotAsync(slot);
        }
    }

    [Fact]
    public void ParseHistory_ReadsEveryAncestorAndRejectsAMalformedLine()
    {
        // Given a history file of timeline 3 as PostgreSQL writes it
        const string content = "1\t0/3000000\tno recovery target specified\n\n2\t0/5000060\tno recovery target specified\n";

        // When / Then
        Assert.Equal(
            [new TimelineSwitch(1, NpgsqlLogSequenceNumber.Parse("0/3000000")), new TimelineSwitch(2, NpgsqlLogSequenceNumber.Parse("0/5000060"))],
            NpgsqlLeaderSession.ParseHistory(content));
        var bad = Assert.Throws<FormatException>(() => NpgsqlLeaderSession.ParseHistory("1\tnot-an-lsn\treason\n", "00000002.history"));
        Assert.Contains("00000002.history line 1", bad.Message, StringComparison.Ordinal);
    }
}
