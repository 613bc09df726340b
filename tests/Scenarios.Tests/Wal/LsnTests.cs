using Xunit;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Tests.ScenariosTests.Wal;

public sealed class LsnTests
{
    [Theory]
    [InlineData("0/3000060", 0x3000060UL)]
    [InlineData("16/B374D848", 0x16B374D848UL)]
    [InlineData("FFFFFFFF/FFFFFFFF", ulong.MaxValue)]
    [InlineData("0/0", 0UL)]
    public void Parse_AndToString_RoundTripPostgresText(string text, ulong value)
    {
        var lsn = Lsn.Parse(text);

        Assert.Equal(value, lsn.Value);
        Assert.Equal(text, lsn.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("3000060")]
    [InlineData("0/")]
    [InlineData("/3")]
    [InlineData("0/30G0060")]
    [InlineData("123456789/0")]
    [InlineData("-1/0")]
    public void TryParse_OfNonLsnText_Fails(string text)
    {
        Assert.False(Lsn.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Lsn.Parse(text));
    }

    [Fact]
    public void BytesAfter_ComparesFirst_AndIsZeroWhenNotPast()
    {
        var start = Lsn.Parse("0/3000060");
        var end = Lsn.Parse("0/5000000");

        Assert.Equal(33554336, end.BytesAfter(start));
        Assert.Equal(0, start.BytesAfter(end));
        Assert.Equal(0, start.BytesAfter(start));
    }

    [Fact]
    public void RowDigest_MatchesPostgresMd5OfTheSameText()
    {
        // md5('1:row-1,2:row-2') and md5('') as PostgreSQL computes them
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", RowDigest.Compute([]));
        Assert.Equal(RowDigest.Compute([2, 1]), RowDigest.Compute([1, 2]));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("1:row-1,2:row-2"u8.ToArray())), RowDigest.Compute([1, 2]));
    }

    /// <summary>
    /// Pairs of positions a WAL starting at the model's boundary starts (0/FFFFF00, 0/FFFFFF00, 0/FFFFFFF0, F/FFFFFF00)
    /// passes: the earlier one sorts after the later one as text, so a comparison done on strings is wrong there.
    /// </summary>
    [Theory]
    [InlineData("0/FFFFFF8", "0/10000000")]
    [InlineData("0/FFFFFFF0", "1/0")]
    [InlineData("1/F0", "1/100")]
    [InlineData("1/FFF8", "1/10000")]
    [InlineData("F/FFFFFFF8", "10/0")]
    [InlineData("10/A8", "10/100")]
    public void CompareTo_AcrossADigitBoundary_IsNumericWhereTextOrderIsNot(string earlierText, string laterText)
    {
        // Given two positions, the first earlier in WAL
        var (earlier, later) = (Lsn.Parse(earlierText), Lsn.Parse(laterText));

        // When they are compared as LSNs and as the text PostgreSQL prints
        var numeric = earlier.CompareTo(later);
        var text = string.CompareOrdinal(earlierText, laterText);

        // Then the LSN order is right, and the text order would be wrong except where the high part grows (0/... < 1/...)
        Assert.True(numeric < 0);
        Assert.True(earlier < later);
        Assert.Equal((ulong)(later.Value - earlier.Value), (ulong)later.BytesAfter(earlier));
        Assert.Equal(earlierText is "0/FFFFFFF0", text < 0);
    }

    [Fact]
    public void PlusAndBytesAfter_PastTwoToTheSixtyThird_StayUnsignedAndNeverNegative()
    {
        // Given a position past 2^63 and the start of WAL
        var high = Lsn.Parse("80000000/10");
        var low = Lsn.Parse("0/10");

        // When / Then moving on and back works over the whole unsigned range
        Assert.Equal(Lsn.Parse("80000000/20"), high.Plus(0x10));
        Assert.Equal(Lsn.Parse("80000000/0"), high.Plus(-0x10));
        Assert.Equal(Lsn.Parse("FFFFFFFF/FFFFFFFF"), Lsn.Parse("7FFFFFFF/FFFFFFFF").Plus(long.MaxValue).Plus(1));
        Assert.Throws<OverflowException>(() => Lsn.Parse("FFFFFFFF/FFFFFFFF").Plus(1));

        // And a distance of 2^63 or more is long.MaxValue, not a negative number
        Assert.Equal(long.MaxValue, high.BytesAfter(low));
        Assert.Equal(long.MaxValue, Lsn.Parse("FFFFFFFF/FFFFFFFF").BytesAfter(Lsn.Zero));
        Assert.Equal(0x7FFFFFFF_FFFFFFFFL, Lsn.Parse("7FFFFFFF/FFFFFFFF").BytesAfter(Lsn.Zero));
    }
}
