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
}
