using System.Net;
using System.Net.Sockets;
using NpgsqlTypes;
using PatroniModel.Reconciler.Audit;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using PatroniModel.Tests.ReconcilerTests.Telemetry;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Audit;

/// <summary>
/// The audit's judgement of every logical slot on every member, read from the real local PostgreSQL. The cluster view
/// and the dynamic configuration come from a stub Patroni REST API, so the cluster can have members the single local
/// member can't give: a replica (whose address is the same real server), a <c>nofailover</c> member Patroni lists
/// without an address, and a replica whose PostgreSQL is a closed port.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class ClusterAuditorTests(LocalPatroniCluster cluster) : IAsyncLifetime
{
    private const string Neither =
        "neither permanent nor in ignore_slots: Patroni drops it on a permanent-slots change, a restart or a role change, and no new leader has it";
    private const string IgnoredNotCopied =
        "in ignore_slots, so it survives Patroni on this leader, but nothing copies it: it is lost at any failover";

    private readonly List<string> _slots = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var slot in _slots)
        {
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    private async Task<string> NewLogicalSlotAsync(string prefix)
    {
        var slot = cluster.UniqueSlot(prefix);
        _slots.Add(slot);
        await cluster.ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", slot);
        return slot;
    }

    private string ClusterJson(params string[] members) => "{\"members\": [" + string.Join(", ", members) + "], \"scope\": \"stub\"}";

    private string Leader(string name = "pg1") =>
        $$"""{"name": "{{name}}", "role": "leader", "state": "running", "host": "127.0.0.1", "port": {{cluster.PostgresPort}}, "timeline": 1}""";

    private static string ConfigJson(string permanent, string ignored) =>
        $$$"""{"loop_wait": 1, "permanent_slots": {"{{{permanent}}}": {"type": "logical", "database": "postgres", "plugin": "test_decoding"}}, "ignore_slots": [{"name": "{{{ignored}}}"}]}""";

    [Fact]
    public async Task Audit_JudgesEachSlotOnTheLeaderAndOnEachReplicaAndReportsMembersItCanNotRead()
    {
        // Given an unprotected, an ignored and a permanent slot on the real server, with WAL written since they were made
        var unprotected = await NewLogicalSlotAsync("aud_a");
        var ignored = await NewLogicalSlotAsync("aud_b");
        var permanent = await NewLogicalSlotAsync("aud_c");
        await cluster.MoveWalAsync();
        var closed = LocalPatroniCluster.ClosedPort();
        // and a cluster view: the leader; pg2, a replica on the same server; pg3, nofailover and without an address;
        // pg4, a replica (nofailover false) whose PostgreSQL is a closed port
        using var rest = new StubPatroniRest()
            .Answer("cluster", ClusterJson(
                Leader(),
                $$$"""{"name": "pg2", "role": "replica", "state": "streaming", "host": "127.0.0.1", "port": {{{cluster.PostgresPort}}}, "tags": {"clonefrom": true}}""",
                """{"name": "pg3", "role": "replica", "state": "stopped", "tags": {"nofailover": true}}""",
                $$$"""{"name": "pg4", "role": "replica", "state": "running", "host": "127.0.0.1", "port": {{{closed}}}, "tags": {"nofailover": false}}"""))
            .Answer("config", ConfigJson(permanent, ignored));
        var logger = new RecordingLogger();
        using var auditor = new ClusterAuditor(new PatroniEndpointOptions { RestUrls = [rest.Url] }, new AuditOptions { MaxRetainedBytes = 0 }, logger);

        // When
        var report = await auditor.AuditAsync();

        // Then the report names who answered and the leader
        Assert.Equal(rest.Url.ToString(), report.AnsweredBy);
        Assert.Equal("pg1", report.Leader);
        Assert.Null(report.ConfigError);
        Assert.True(report.HasHazards);
        var mine = report.Slots.Where(s => s.Slot is null || _slots.Contains(s.Slot)).ToList();
        Assert.Equal(
            [("pg1", unprotected), ("pg1", ignored), ("pg1", permanent), ("pg2", unprotected), ("pg2", ignored), ("pg2", permanent), ("pg3", null), ("pg4", null)],
            mine.Select(s => (s.Member, s.Slot)).ToList());

        // and on the leader each slot has its guard and its hazards; pg2 and pg4 are the failover candidates, neither holds a ready copy
        var leaderRecords = mine.Take(3).ToList();
        Assert.All(leaderRecords, r => Assert.Equal("leader", r.Role));
        Assert.Equal([SlotGuard.None, SlotGuard.IgnoreSlots, SlotGuard.Permanent], leaderRecords.Select(r => r.Protection));
        Assert.Equal([HazardKind.Unprotected, HazardKind.RetainsTooMuch], leaderRecords[0].Hazards.Select(h => h.Kind));
        Assert.Equal(Neither, leaderRecords[0].Hazards[0].Message);
        Assert.Equal([HazardKind.IgnoredNotCopied, HazardKind.RetainsTooMuch], leaderRecords[1].Hazards.Select(h => h.Kind));
        Assert.Equal(IgnoredNotCopied, leaderRecords[1].Hazards[0].Message);
        Assert.Equal([HazardKind.NoReadyCopy, HazardKind.RetainsTooMuch], leaderRecords[2].Hazards.Select(h => h.Kind));
        Assert.Equal("no ready copy on pg2, pg4 (unreachable): a failover to that member now re-creates it at the current LSN (a gap)", leaderRecords[2].Hazards[0].Message);
        Assert.All(leaderRecords, r =>
        {
            Assert.Equal(2, r.FailoverCandidates);
            Assert.Equal(0, r.ReadyCopies);
            Assert.Empty(r.ReadyOn);
        });

        // and every slot's row is read as PostgreSQL has it; retained WAL and lag are measured from the same position
        foreach (var record in mine.Take(6))
        {
            var restart = await cluster.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1::name", record.Slot!);
            var confirmed = await cluster.ConfirmedFlushAsync(record.Slot!);
            Assert.Equal("test_decoding", record.Plugin);
            Assert.Equal("postgres", record.Database);
            Assert.Equal(restart.ToString(), record.RestartLsn);
            Assert.Equal(confirmed.ToString(), record.ConfirmedFlushLsn);
            Assert.False(record.Active);
            Assert.False(record.Temporary);
            Assert.Equal("reserved", record.WalStatus);
            Assert.Null(record.SafeWalSize);
            Assert.Null(record.Failover);
            Assert.Null(record.Synced);
            Assert.Null(record.InvalidationReason);
            Assert.Null(record.Error);
            Assert.True(record.RetainedBytes > 0);
            var retains = record.Hazards.Single(h => h.Kind == HazardKind.RetainsTooMuch);
            Assert.Equal($"retains {record.RetainedBytes} B of WAL, more than the 0 B allowed (--max-retained)", retains.Message);
            Assert.Equal("hazard", record.Verdict);
        }
        foreach (var record in leaderRecords)
        {
            var restart = await cluster.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1::name", record.Slot!);
            var confirmed = (await cluster.ConfirmedFlushAsync(record.Slot!))!.Value;
            Assert.Equal((long)((ulong)confirmed - (ulong)restart), record.RetainedBytes - record.LagBytes);
        }

        // and on the replica the same slots are judged with the leader's position for lag, and only the common hazards
        var standbyRecords = mine.Skip(3).Take(3).ToList();
        Assert.All(standbyRecords, r => Assert.Equal("replica", r.Role));
        Assert.Equal([SlotGuard.None, SlotGuard.IgnoreSlots, SlotGuard.Permanent], standbyRecords.Select(r => r.Protection));
        Assert.All(standbyRecords, r => Assert.Equal([HazardKind.RetainsTooMuch], r.Hazards.Select(h => h.Kind)));
        Assert.Equal(leaderRecords.Select(r => r.LagBytes), standbyRecords.Select(r => r.LagBytes));
        Assert.All(standbyRecords, r => Assert.Equal(0, r.FailoverCandidates));

        // and a member without an address or with a closed port is one record with the reason
        var noAddress = mine[6];
        Assert.Equal("replica", noAddress.Role);
        Assert.Equal(SlotGuard.None, noAddress.Protection);
        Assert.Equal("Patroni lists no PostgreSQL address for it (state stopped)", noAddress.Error);
        var hazard = Assert.Single(noAddress.Hazards);
        Assert.Equal(HazardKind.MemberUnreachable, hazard.Kind);
        Assert.Equal("PostgreSQL of pg3 could not be read: Patroni lists no PostgreSQL address for it (state stopped); its slots were not audited", hazard.Message);
        var closedPort = mine[7];
        Assert.StartsWith($"127.0.0.1:{closed}: ", closedPort.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', closedPort.Error!);
        Assert.Equal(HazardKind.MemberUnreachable, Assert.Single(closedPort.Hazards).Kind);

        // and each hazard is logged as a warning, the unreadable member too, then one summary line
        Assert.Contains(logger.Lines, l => l == $"Warning audit: slot {unprotected} on pg1: unprotected: {Neither}");
        Assert.Contains(logger.Lines, l => l == $"Warning audit: slot - on pg3: member_unreachable: {hazard.Message}");
        Assert.Contains(logger.Lines, l => l.StartsWith($"Warning audit: PostgreSQL of pg4 at 127.0.0.1:{closed} could not be read: ", StringComparison.Ordinal));
        var summary = Assert.Single(logger.Lines, l => l.StartsWith("Information ", StringComparison.Ordinal));
        Assert.Matches($"^Information audit: {report.Slots.Count} slot records on 4 members in [0-9]+ ms, {report.Slots.Count(s => s.Hazards.Count > 0)} with hazards$", summary);
    }

    [Fact]
    public async Task Audit_WhenNoLimitIsSetAndTheConfigCanNotBeRead_JudgesEverySlotUnprotectedAndSaysWhy()
    {
        // Given a slot on the real server, a leader-only view, and GET /config answering HTTP 502 (a scope not bootstrapped)
        var slot = await NewLogicalSlotAsync("aud_noconfig");
        await cluster.MoveWalAsync();
        using var rest = new StubPatroniRest()
            .Answer("cluster", ClusterJson(Leader("pgx")))
            .Answer("config", "{}", status: 502);
        var url = new Uri(rest.Url.ToString().TrimEnd('/'));
        using var auditor = new ClusterAuditor(new PatroniEndpointOptions { RestUrls = [url] });

        // When
        var report = await auditor.AuditAsync();

        // Then
        Assert.Equal($"no Patroni REST endpoint answered GET /config: {rest.Url}config: HTTP 502", report.ConfigError);
        Assert.Equal("pgx", report.Leader);
        var record = Assert.Single(report.Slots, s => s.Slot == slot);
        Assert.Equal("pgx", record.Member);
        Assert.Equal(SlotGuard.None, record.Protection);
        Assert.Equal([HazardKind.Unprotected], record.Hazards.Select(h => h.Kind));
        Assert.Equal(0, record.FailoverCandidates);
        Assert.True(record.RetainedBytes > 0);
    }

    [Fact]
    public async Task Audit_WhenNoRestUrlAnswers_ThrowsNamingEachUrlAndWhatItSaid()
    {
        // Given a closed port, a stub answering /cluster with something that is not JSON, one answering HTTP 503, and a
        // socket that never answers
        var closed = new Uri($"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}/");
        using var notJson = new StubPatroniRest().Answer("cluster", "<html>no</html>");
        using var unavailable = new StubPatroniRest().Answer("cluster", "{}", status: 503);
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var silentUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/");
        using var auditor = new ClusterAuditor(new PatroniEndpointOptions
        {
            RestUrls = [closed, notJson.Url, unavailable.Url, silentUrl],
            RequestTimeout = TimeSpan.FromMilliseconds(300),
        });

        // When
        var error = await Assert.ThrowsAsync<PatroniUnreachableException>(() => auditor.AuditAsync());

        // Then
        Assert.Equal(
            $"no Patroni REST endpoint answered GET /cluster: {closed}cluster: Connection refused; " +
            $"{notJson.Url}cluster: answered, but not with JSON; {unavailable.Url}cluster: HTTP 503; {silentUrl}cluster: no answer within 0.3 s",
            error.Message);
    }

    [Fact]
    public void New_WithoutARestUrl_IsRefused()
    {
        // Given / When / Then
        Assert.Throws<ArgumentNullException>(() => new ClusterAuditor(null!));
        var error = Assert.Throws<ArgumentException>(() => new ClusterAuditor(new PatroniEndpointOptions { RestUrls = [] }));
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("at least one Patroni REST URL is needed", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pg1", "pg1")]
    [InlineData("PG-2.node_A", "pg_2_node_a")]
    [InlineData("az", "az")]
    [InlineData("09_", "09_")]
    [InlineData("`{@[/:", "______")]
    public void PhysicalSlotNameOf_FollowsPatronisSlotNameFromMemberName(string member, string expected)
    {
        // Given a member name / When / Then
        Assert.Equal(expected, ClusterAuditor.PhysicalSlotNameOf(member));
    }

    [Fact]
    public void PhysicalSlotNameOf_ALongMemberName_IsCutAt63Characters()
    {
        // Given a 64-character member name
        var member = new string('m', 62) + "xy";

        // When
        var name = ClusterAuditor.PhysicalSlotNameOf(member);

        // Then
        Assert.Equal(new string('m', 62) + "x", name);
        Assert.Equal(new string('m', 63), ClusterAuditor.PhysicalSlotNameOf(new string('m', 63)));
    }
}
