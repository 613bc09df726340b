using NpgsqlTypes;
using PatroniModel.Reconciler.Reports;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Slots;

/// <summary>The exact-range check every gap and phantom test makes: the range's ends and its byte count.</summary>
internal static class WalRangeAssert
{
    /// <summary>Asserts that <paramref name="range"/> is exactly <paramref name="start"/>..<paramref name="end"/> and counts <c>end - start</c> bytes.</summary>
    public static void Exact(NpgsqlLogSequenceNumber start, NpgsqlLogSequenceNumber end, WalGap? range)
    {
        Assert.Equal(new WalGap(start, end), range);
        Assert.Equal((ulong)end - (ulong)start, range!.Bytes);
    }
}
