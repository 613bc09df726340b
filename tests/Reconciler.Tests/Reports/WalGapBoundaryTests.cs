using NpgsqlTypes;
using PatroniModel.Consumer.Reconciling;
using PatroniModel.Reconciler.Reports;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Reports;

/// <summary>
/// LSN comparison and distance across the digit boundaries of <c>X/Y</c> (0/FFFFFFF, 0/FFFFFFFF, 1/0) and at the
/// 64-bit top: text order and numeric order differ exactly there, and a signed cast breaks past 2^63.
/// </summary>
public sealed class WalGapBoundaryTests
{
    public static TheoryData<string, string, ulong> Distances => new()
    {
        { "0/FFFFFFF", "0/10000000", 1UL },
        { "0/FFFFFFFF", "1/0", 1UL },
        { "0/FFFFFFF", "1/0", 0xF0000001UL },
        { "0/9", "0/10", 7UL },
        { "9/0", "10/0", 7UL << 32 },
        { "0/0", "7FFFFFFF/FFFFFFFF", (ulong)long.MaxValue },
        { "0/0", "80000000/0", 1UL << 63 },
        { "0/3000060", "FFFFFFFF/FFFFFFFF", ulong.MaxValue - 0x3000060UL },
        { "0/0", "FFFFFFFF/FFFFFFFF", ulong.MaxValue },
        { "FFFFFFFF/FFFFFFFE", "FFFFFFFF/FFFFFFFF", 1UL },
    };

    private static NpgsqlLogSequenceNumber L(string text) => NpgsqlLogSequenceNumber.Parse(text);

    [Theory]
    [MemberData(nameof(Distances))]
    public void DistanceAndBetween_AcrossDigitBoundariesAndThe64BitTop_AreNumericAndExact(string from, string to, ulong bytes)
    {
        // Given two positions whose text lengths may differ, the later one second
        var start = L(from);
        var end = L(to);

        // When / Then the distance is exact and unsigned, and only the forward direction is a gap
        Assert.Equal(bytes, WalGap.Distance(start, end));
        Assert.Equal(0UL, WalGap.Distance(end, start));
        Assert.Equal(new WalGap(start, end), WalGap.Between(start, end));
        Assert.Equal(bytes, WalGap.Between(start, end)!.Bytes);
        Assert.Null(WalGap.Between(end, start));
        Assert.Null(WalGap.Between(start, start));
        Assert.Equal(0UL, WalGap.Distance(start, start));
        Assert.Equal($"{from}..{to} ({bytes} B)", new WalGap(start, end).ToString());
    }

    [Theory]
    [MemberData(nameof(Distances))]
    public void FoundBehind_AcrossDigitBoundariesAndThe64BitTop_ReportsTheExactUnsignedDuplicates(string slot, string consumer, ulong bytes)
    {
        // Given a slot found behind the consumer (the leader's WAL at the consumer's position, so it is not past the end)
        var report = Found(L(slot), L(consumer), leaderLsn: L(consumer));

        // Then
        Assert.Equal(bytes, report.DuplicateBytes);
        Assert.True(report.IsAlarm);
        Assert.False(report.ConsumerPastEndOfWal);
        Assert.Contains($"\"duplicate_bytes\":{bytes}", report.ToJson(), StringComparison.Ordinal);
        Assert.Contains($"found {bytes} B behind the consumer at {slot} (duplicates from {slot} to {consumer})", report.ToLogLine(), StringComparison.Ordinal);
        Assert.Equal(ReconcileStepRunner.Saturated(bytes), ReconcileStepRunner.ToObservation(report).DuplicateBytes);
        Assert.True(ReconcileStepRunner.ToObservation(report).DuplicateBytes > 0);
    }

    [Fact]
    public void Found_WhenTheConsumerIsAtTheTopOfTheRangeAndPastTheLeadersEndOfWal_IsAnAlarmWithThePastEndNote()
    {
        // Given the case that was "found, no alarm, duplicate_bytes -50398393": the consumer at FFFFFFFF/FFFFFFFF
        var report = Found(L("0/3000060"), L("FFFFFFFF/FFFFFFFF"), leaderLsn: L("0/3000100"));

        // Then the duplicates are exact, and the report says the consumer read another timeline or cluster
        Assert.Equal(ulong.MaxValue - 0x3000060UL, report.DuplicateBytes);
        Assert.True(report.ConsumerPastEndOfWal);
        Assert.True(report.IsAlarm);
        Assert.Equal(
            "slot s1 on pg1 (timeline 1): found 18446744073659219871 B behind the consumer at 0/3000060 (duplicates from 0/3000060 to FFFFFFFF/FFFFFFFF); "
            + "the consumer's position FFFFFFFF/FFFFFFFF is past the leader's end of WAL 0/3000100: it was confirmed on another timeline or another cluster",
            report.ToLogLine());
        Assert.Contains("\"consumer_past_end_of_wal\":true,\"alarm\":true", report.ToJson(), StringComparison.Ordinal);
        Assert.Equal(long.MaxValue, ReconcileStepRunner.ToObservation(report).DuplicateBytes);
    }

    [Theory]
    [InlineData("0/FFFFFFFF", "1/0", true)]
    [InlineData("1/0", "1/0", false)]
    [InlineData("1/0", "0/FFFFFFFF", false)]
    [InlineData("0/FFFFFFF", "0/10000000", true)]
    [InlineData("FFFFFFFF/FFFFFFFE", "FFFFFFFF/FFFFFFFF", true)]
    public void ConsumerPastEndOfWal_ComparesNumerically(string leaderEnd, string consumer, bool past)
    {
        // Given a slot at the consumer's position on a leader whose WAL ends at leaderEnd
        var report = Found(L(consumer), L(consumer), leaderLsn: L(leaderEnd));

        // Then
        Assert.Equal(past, report.ConsumerPastEndOfWal);
        Assert.Equal(past, report.IsAlarm);
        Assert.Equal(past, report.ToLogLine().Contains("past the leader's end of WAL", StringComparison.Ordinal));
        Assert.Contains($"\"consumer_past_end_of_wal\":{(past ? "true" : "false")}", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Report_WithoutAConsumerPosition_IsNeverPastTheEndOfWal()
    {
        var report = Found(L("0/1"), L("0/1"), L("0/1")) with { LastConfirmed = null, DuplicateBytes = 0 };
        Assert.False(report.ConsumerPastEndOfWal);
    }

    [Theory]
    [InlineData(0UL, 0L)]
    [InlineData(1UL, 1L)]
    [InlineData((ulong)long.MaxValue, long.MaxValue)]
    [InlineData((ulong)long.MaxValue + 1, long.MaxValue)]
    [InlineData(ulong.MaxValue, long.MaxValue)]
    public void Saturated_NeverTurnsAByteCountNegative(ulong bytes, long recorded) =>
        Assert.Equal(recorded, ReconcileStepRunner.Saturated(bytes));

    [Theory]
    [InlineData("0/FFFFFFF")]
    [InlineData("0/FFFFFFFF")]
    [InlineData("1/0")]
    [InlineData("FFFFFFFF/FFFFFFFF")]
    public void LsnConversions_RoundTripAtTheBoundaries(string text)
    {
        var lsn = L(text);
        Assert.Equal(text, lsn.ToLsn().ToString());
        Assert.Equal(lsn, lsn.ToLsn().ToNpgsql());
        Assert.Equal(text, ((NpgsqlLogSequenceNumber?)lsn).ToLsn()?.ToString());
        Assert.Null(((NpgsqlLogSequenceNumber?)null).ToLsn());
    }

    private static SlotReport Found(NpgsqlLogSequenceNumber slot, NpgsqlLogSequenceNumber consumer, NpgsqlLogSequenceNumber leaderLsn) => new()
    {
        Slot = "s1",
        Outcome = SlotOutcome.Found,
        Leader = "pg1",
        Timeline = 1,
        LeaderLsn = leaderLsn,
        LastConfirmed = new ConfirmedPosition(consumer),
        SlotPosition = slot,
        DuplicateBytes = WalGap.Distance(slot, consumer),
        Protection = SlotProtection.Permanent,
    };
}
