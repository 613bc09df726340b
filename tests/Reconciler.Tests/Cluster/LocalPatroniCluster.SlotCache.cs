namespace PatroniModel.Tests.ReconcilerTests.Cluster;

/// <summary>
/// Patroni's slot cache, and why a test that changes the slot configuration must wait for it before the next test runs.
/// Patroni 3.0.2 (<c>patroni/postgresql/slots.py</c>) keeps the slots it knows in a cache, and drops an unknown logical
/// slot only when the cache is reloaded: the HA pass after it creates a slot, after a start or <c>POST /restart</c>,
/// after a slot it knows went missing (a test dropped it) or a drop of its own failed. A reload still pending when a test
/// ends happens during the next one, and drops every logical slot that test made that is neither permanent nor in
/// <c>ignore_slots</c> (a slot the audit tests judge against a stub Patroni configuration, say).
/// </summary>
public sealed partial class LocalPatroniCluster
{
    private static readonly TimeSpan SlotPassTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until Patroni has no slot-cache reload pending: after it, a logical slot a test creates stays until the
    /// test itself changes the slot configuration or restarts PostgreSQL. Forces one reload and watches it happen: an
    /// unknown probe slot, then a permanent marker slot (Patroni creates it and schedules a reload; the reload consumes
    /// any reload pending before and drops the probe), then the marker no longer permanent (Patroni drops it itself, a
    /// drop that succeeds schedules nothing). Call it after changing <c>permanent_slots</c> or <c>ignore_slots</c>.
    /// </summary>
    public async Task SettleSlotsAsync()
    {
        var probe = UniqueSlot("settle_probe");
        var marker = UniqueSlot("settle_marker");
        await ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", probe).ConfigureAwait(false);
        await PatchConfigAsync("{\"permanent_slots\": {\"" + marker + "\": {\"type\": \"logical\", \"database\": \"postgres\", \"plugin\": \"test_decoding\"}}}").ConfigureAwait(false);
        await WaitUntilAsync($"Patroni to create permanent slot {marker} and, reloading its slot cache, drop the unknown slot {probe}",
            async () => await ConfirmedFlushAsync(marker).ConfigureAwait(false) is not null && await ConfirmedFlushAsync(probe).ConfigureAwait(false) is null,
            SlotPassTimeout, SlotsSeenAsync).ConfigureAwait(false);
        await PatchConfigAsync("{\"permanent_slots\": {\"" + marker + "\": null}}").ConfigureAwait(false);
        await WaitUntilAsync($"Patroni to drop {marker}, no longer permanent",
            async () => await ConfirmedFlushAsync(marker).ConfigureAwait(false) is null,
            SlotPassTimeout, SlotsSeenAsync).ConfigureAwait(false);
    }

    private async Task<string> SlotsSeenAsync() =>
        "slots " + await ScalarAsync<string>(
            "SELECT coalesce(string_agg(slot_name || ' (' || slot_type || CASE WHEN active THEN ', active' ELSE '' END || ')', ', ' ORDER BY slot_name), 'none') FROM pg_replication_slots")
            .ConfigureAwait(false);
}
