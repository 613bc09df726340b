using NpgsqlTypes;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Positions;

/// <summary>The consumer's persisted position: durable, never backwards, never silently reset.</summary>
public sealed class FilePositionStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("positions-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ConfirmedPosition At(string lsn, int? timeline = null) => new(NpgsqlLogSequenceNumber.Parse(lsn), timeline);

    [Fact]
    public async Task Load_WhenNothingWasSaved_ReturnsNull()
    {
        // Given an empty store (its directory does not even exist yet)
        var store = new FilePositionStore(Path.Combine(_directory, "not-yet"));

        // When / Then
        Assert.Null(await store.LoadAsync("s1"));
    }

    [Fact]
    public async Task Save_ThenLoadFromANewStore_ReturnsThePositionAndTimeline()
    {
        // Given
        await new FilePositionStore(_directory).SaveAsync("s1", At("0/3000060", 2));

        // When a new store (a restarted consumer) loads it
        var loaded = await new FilePositionStore(_directory).LoadAsync("s1");

        // Then
        Assert.Equal(At("0/3000060", 2), loaded);
        Assert.Equal(
            """{"format":"patroni-model/position@1","slot":"s1","lsn":"0/3000060","timeline":2}""" + "\n",
            await File.ReadAllTextAsync(Path.Combine(_directory, "s1.position.json")));
    }

    [Fact]
    public async Task Save_ForwardAndTheSamePosition_Succeeds()
    {
        // Given
        var store = new FilePositionStore(_directory);
        await store.SaveAsync("s1", At("0/3000060"));

        // When
        await store.SaveAsync("s1", At("0/3000060"));
        await store.SaveAsync("s1", At("1/0", 3));

        // Then
        Assert.Equal(At("1/0", 3), await store.LoadAsync("s1"));
    }

    [Fact]
    public async Task Save_BelowTheStoredPosition_ThrowsAndLeavesTheFileUnchanged()
    {
        // Given
        var store = new FilePositionStore(_directory);
        await store.SaveAsync("s1", At("0/5000000"));
        var path = store.PathOf("s1");
        var before = await File.ReadAllBytesAsync(path);

        // When
        var error = await Assert.ThrowsAsync<PositionWentBackwardsException>(() => store.SaveAsync("s1", At("0/4FFFFFF")));

        // Then
        Assert.Equal("consumer position of slot s1 would go backwards from 0/5000000 to 0/4FFFFFF; the stored position is kept", error.Message);
        Assert.Equal(before, await File.ReadAllBytesAsync(path));
        Assert.Equal(At("0/5000000"), await store.LoadAsync("s1"));
        Assert.Equal(["s1.position.json"], Directory.EnumerateFiles(_directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("{\"format\":\"patroni-model/position@1\",\"slot\":\"s1\",\"lsn\":\"0/30", "not JSON")]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("{\"format\":\"other\",\"slot\":\"s1\",\"lsn\":\"0/3000060\"}", "format is 'other'")]
    [InlineData("{\"format\":\"patroni-model/position@1\",\"slot\":\"s2\",\"lsn\":\"0/3000060\"}", "it holds slot 's2', not 's1'")]
    [InlineData("{\"format\":\"patroni-model/position@1\",\"slot\":\"s1\",\"lsn\":\"zz\"}", "lsn 'zz' is not an LSN")]
    [InlineData("{\"format\":\"patroni-model/position@1\",\"slot\":\"s1\",\"lsn\":\"0/1\",\"timeline\":0}", "timeline 0 is not a timeline")]
    public async Task Load_WhenTheFileIsCorrupt_NamesTheFileAndNeverResets(string content, string reason)
    {
        // Given a damaged position file
        var store = new FilePositionStore(_directory);
        var path = store.PathOf("s1");
        await File.WriteAllTextAsync(path, content);

        // When
        var load = await Assert.ThrowsAsync<PositionStoreCorruptException>(() => store.LoadAsync("s1"));
        var save = await Assert.ThrowsAsync<PositionStoreCorruptException>(() => store.SaveAsync("s1", At("9/0")));

        // Then
        Assert.Equal(path, load.Path);
        Assert.StartsWith($"consumer position file {path} is corrupt: {reason}", load.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', load.Message);
        Assert.Equal(path, save.Path);
        Assert.Equal(content, await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Save_ManyConcurrentForwardSaves_EndsAtTheHighestWithoutCorruption()
    {
        // Given
        var store = new FilePositionStore(_directory);

        // When 50 saves race, in random order, each forward or rejected as backwards
        var saves = Enumerable.Range(1, 50).Reverse().Select(async i =>
        {
            try
            {
                await store.SaveAsync("s1", new ConfirmedPosition(new NpgsqlLogSequenceNumber((ulong)i * 0x100)));
            }
            catch (PositionWentBackwardsException)
            {
            }
        });
        await Task.WhenAll(saves);

        // Then
        Assert.Equal(new ConfirmedPosition(new NpgsqlLogSequenceNumber(50UL * 0x100)), await store.LoadAsync("s1"));
        Assert.Single(Directory.EnumerateFiles(_directory));
    }
}
