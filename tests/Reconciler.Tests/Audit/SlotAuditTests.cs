using PatroniModel.Reconciler.Audit;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Audit;

/// <summary>The audit record's stable JSON line, its verdict and role, and the hazards' stable names.</summary>
public sealed class SlotAuditTests
{
    [Fact]
    public void ToJson_WritesEveryFieldInSnakeCaseOnOneLineWithNullsKept()
    {
        // Given a leader's record with a hazard
        var record = new SlotAudit
        {
            Member = "pg1",
            Role = "leader",
            Slot = "orders_cdc",
            Plugin = "pgoutput",
            Database = "postgres",
            ConfirmedFlushLsn = "0/2000098",
            RestartLsn = "0/2000060",
            Active = true,
            Temporary = false,
            WalStatus = "reserved",
            RetainedBytes = 166736,
            LagBytes = 166680,
            Protection = SlotGuard.IgnoreSlots,
            ReadyCopies = 1,
            FailoverCandidates = 2,
            ReadyOn = ["pg2"],
            Hazards = [new Hazard(HazardKind.IgnoredNotCopied, "lost at any failover")],
        };

        // When
        var json = record.ToJson();

        // Then
        Assert.Equal(
            """{"member":"pg1","role":"leader","slot":"orders_cdc","plugin":"pgoutput","database":"postgres","confirmed_flush_lsn":"0/2000098","restart_lsn":"0/2000060","active":true,"temporary":false,"wal_status":"reserved","safe_wal_size":null,"retained_bytes":166736,"lag_bytes":166680,"failover":null,"synced":null,"invalidation_reason":null,"protection":"ignore_slots","ready_copies":1,"failover_candidates":2,"ready_on":["pg2"],"verdict":"hazard","hazards":[{"name":"ignored_not_copied","message":"lost at any failover"}],"error":null}""",
            json);
    }

    [Fact]
    public void ToJson_OfASafeStandbyRecord_SaysSafe()
    {
        // Given a standby's record without hazards
        var record = new SlotAudit { Member = "pg2", Role = "replica", Slot = "s", Protection = SlotGuard.FailoverSlot, Failover = true, Synced = true, Temporary = true, SafeWalSize = 5, InvalidationReason = "rows_removed", Error = "e" };

        // When
        var json = record.ToJson();

        // Then
        Assert.Equal("safe", record.Verdict);
        Assert.Equal(
            """{"member":"pg2","role":"replica","slot":"s","plugin":null,"database":null,"confirmed_flush_lsn":null,"restart_lsn":null,"active":false,"temporary":true,"wal_status":null,"safe_wal_size":5,"retained_bytes":null,"lag_bytes":null,"failover":true,"synced":true,"invalidation_reason":"rows_removed","protection":"failover_slot","ready_copies":0,"failover_candidates":0,"ready_on":[],"verdict":"safe","hazards":[],"error":"e"}""",
            json);
    }

    [Theory]
    [InlineData("leader", true)]
    [InlineData("standby_leader", true)]
    [InlineData("master", true)]
    [InlineData("primary", true)]
    [InlineData("replica", false)]
    [InlineData("sync_standby", false)]
    public void IsLeader_FollowsPatronisLeaderRoles(string role, bool leader)
    {
        // Given / When / Then
        Assert.Equal(leader, new SlotAudit { Member = "m", Role = role, Protection = SlotGuard.None }.IsLeader);
    }

    [Theory]
    [InlineData(HazardKind.Unprotected, "unprotected")]
    [InlineData(HazardKind.IgnoredNotCopied, "ignored_not_copied")]
    [InlineData(HazardKind.NoReadyCopy, "no_ready_copy")]
    [InlineData(HazardKind.StaleStandbySlot, "stale_standby_slot")]
    [InlineData(HazardKind.WalLost, "wal_lost")]
    [InlineData(HazardKind.WalUnreserved, "wal_unreserved")]
    [InlineData(HazardKind.Invalidated, "invalidated")]
    [InlineData(HazardKind.RetainsTooMuch, "retains_too_much")]
    [InlineData(HazardKind.MemberUnreachable, "member_unreachable")]
    public void HazardName_IsStableSnakeCase(HazardKind kind, string name)
    {
        // Given / When / Then
        Assert.Equal(name, Hazard.NameOf(kind));
        Assert.Equal(name, new Hazard(kind, "m").Name);
    }

    [Fact]
    public void HasHazards_IsTrueWhenAnyRecordHasOne()
    {
        // Given
        var safe = new SlotAudit { Member = "pg1", Role = "leader", Slot = "a", Protection = SlotGuard.Permanent };
        var unsafeRecord = safe with { Slot = "b", Hazards = [new Hazard(HazardKind.WalLost, "lost")] };

        // When / Then
        Assert.False(new AuditReport([safe], "u", "pg1", TimeSpan.Zero).HasHazards);
        Assert.True(new AuditReport([safe, unsafeRecord], "u", "pg1", TimeSpan.Zero).HasHazards);
        Assert.False(new AuditReport([], "u", null, TimeSpan.Zero).HasHazards);
    }
}
