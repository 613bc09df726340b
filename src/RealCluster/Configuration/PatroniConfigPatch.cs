using System.Text.Json.Nodes;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.RealCluster.Configuration;

/// <summary>
/// The body of Patroni's <c>PATCH /config</c> for a <see cref="ConfigPatch"/> (Patroni's dynamic_configuration docs):
/// scalar settings under their own names, <c>synchronous_mode</c> as Patroni's two switches, permanent slots as logical
/// <c>test_decoding</c> slots on <c>postgres</c> (a removed one set to null, as Patroni's merge of the dynamic
/// configuration needs) and <c>ignore_slots</c> as <c>[{"name": s}]</c>.
/// </summary>
public static class PatroniConfigPatch
{
    /// <summary>The body that turns <paramref name="current"/>'s dynamic configuration into <c>current.Apply(patch)</c>.</summary>
    public static JsonObject Body(ClusterConfig current, ConfigPatch patch)
    {
        var body = new JsonObject();
        if (patch.Ttl is { } ttl)
        {
            body["ttl"] = ttl;
        }
        if (patch.LoopWait is { } loopWait)
        {
            body["loop_wait"] = loopWait;
        }
        if (patch.RetryTimeout is { } retryTimeout)
        {
            body["retry_timeout"] = retryTimeout;
        }
        if (patch.MaximumLagOnFailover is { } lag)
        {
            body["maximum_lag_on_failover"] = lag;
        }
        if (patch.SynchronousMode is { } mode)
        {
            body["synchronous_mode"] = mode != SynchronousMode.Off;
            body["synchronous_mode_strict"] = mode == SynchronousMode.Strict;
        }
        if (patch.PermanentSlots is { } permanent)
        {
            var slots = new JsonObject();
            foreach (var removed in current.PermanentSlots.Except(permanent))
            {
                slots[removed] = null;
            }
            foreach (var slot in permanent)
            {
                slots[slot] = new JsonObject { ["type"] = "logical", ["database"] = SlotDefaults.Database, ["plugin"] = SlotDefaults.Plugin };
            }
            body["permanent_slots"] = slots;
        }
        if (patch.IgnoreSlots is { } ignore)
        {
            body["ignore_slots"] = new JsonArray([.. ignore.Select(s => (JsonNode)new JsonObject { ["name"] = s })]);
        }
        return body;
    }
}
