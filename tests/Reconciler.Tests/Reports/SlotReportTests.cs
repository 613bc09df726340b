using System.Text.Json;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Reports;

/// <summary>Every outcome gives one log line and one JSON record; checked on a real gap.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class SlotReportTests(LocalPatroniCluster cluster)
{
    [Fact]
    public async Task RecreatedWithGap_WritesOneLogLineAndOneJsonRecordWithTheExactGap()
    {
        // Given a real gap: a slot lost after WAL moved
        var slot = cluster.UniqueSlot("report");
        using var endpoint = cluster.NewEndpoint();
        var reconciler = new SlotReconciler(endpoint);
        await reconciler.EnsureSlotAsync(slot, null);
        var lastConfirmed = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        await cluster.MoveWalAsync();
        await cluster.DropSlotAsync(slot);
        var report = await reconciler.EnsureSlotAsync(slot, new ConfirmedPosition(lastConfirmed, Timeline: 1));
        var end = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        var bytes = (ulong)end - (ulong)lastConfirmed;
        await cluster.DropSlotAsync(slot);

        // When
        var line = report.ToLogLine();
        using var json = JsonDocument.Parse(report.ToJson());

        // Then
        Assert.Equal(
            $"slot {slot} on pg1 (timeline 1): re-created: gap {lastConfirmed}..{end} ({bytes} B); " +
            "unprotected: Patroni drops it on a config change, restart or role change (make it permanent or add it to ignore_slots)",
            line);
        Assert.DoesNotContain('\n', report.ToJson());
        var root = json.RootElement;
        Assert.Equal(slot, root.GetProperty("slot").GetString());
        Assert.Equal("RecreatedWithGap", root.GetProperty("outcome").GetString());
        Assert.Equal("pg1", root.GetProperty("leader").GetString());
        Assert.Equal(1, root.GetProperty("timeline").GetInt32());
        Assert.Equal(lastConfirmed.ToString(), root.GetProperty("last_confirmed").GetString());
        Assert.Equal(1, root.GetProperty("last_confirmed_timeline").GetInt32());
        Assert.Equal(end.ToString(), root.GetProperty("slot_position").GetString());
        Assert.Equal(lastConfirmed.ToString(), root.GetProperty("gap").GetProperty("start").GetString());
        Assert.Equal(end.ToString(), root.GetProperty("gap").GetProperty("end").GetString());
        Assert.Equal(bytes, root.GetProperty("gap").GetProperty("bytes").GetUInt64());
        Assert.Equal("Unprotected", root.GetProperty("protection").GetString());
        Assert.True(root.GetProperty("alarm").GetBoolean());
        Assert.False(root.TryGetProperty("fork", out _));
    }

    [Fact]
    public async Task Created_WritesANoAlarmLineAndRecord()
    {
        // Given a fresh slot
        var slot = cluster.UniqueSlot("reportnew");
        using var endpoint = cluster.NewEndpoint();
        var report = await new SlotReconciler(endpoint).EnsureSlotAsync(slot, null);
        var position = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        await cluster.DropSlotAsync(slot);

        // When
        using var json = JsonDocument.Parse(report.ToJson());

        // Then
        Assert.StartsWith($"slot {slot} on pg1 (timeline 1): created at {position} (no consumer position yet), no alarm", report.ToLogLine(), StringComparison.Ordinal);
        Assert.False(json.RootElement.GetProperty("alarm").GetBoolean());
        Assert.False(json.RootElement.TryGetProperty("gap", out _));
        Assert.False(json.RootElement.TryGetProperty("last_confirmed", out _));
    }
}
