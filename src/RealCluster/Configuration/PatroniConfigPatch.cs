using System.Collections.Immutable;
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
        foreach (var field in ConfigPatchFields.All)
        {
            switch (field.Get(patch))
            {
                case null:
                    break;
                case int n:
                    body[field.Name] = n;
                    break;
                case long n:
                    body[field.Name] = n;
                    break;
                case SynchronousMode mode:
                    body["synchronous_mode"] = mode != SynchronousMode.Off;
                    body["synchronous_mode_strict"] = mode == SynchronousMode.Strict;
                    break;
                case ImmutableArray<string> slots when field.Name == "permanent_slots":
                    body[field.Name] = PermanentSlots(current.PermanentSlots, slots);
                    break;
                case ImmutableArray<string> slots:
                    body[field.Name] = new JsonArray([.. slots.Select(s => (JsonNode)new JsonObject { ["name"] = s })]);
                    break;
                case var other:
                    throw new InvalidOperationException($"patch field {field.Name} holds {other}, which PATCH /config does not know");
            }
        }
        return body;
    }

    private static JsonObject PermanentSlots(ImmutableArray<string> current, ImmutableArray<string> wanted)
    {
        var slots = new JsonObject();
        foreach (var removed in current.Except(wanted))
        {
            slots[removed] = null;
        }
        foreach (var slot in wanted)
        {
            slots[slot] = new JsonObject { ["type"] = "logical", ["database"] = SlotDefaults.Database, ["plugin"] = SlotDefaults.Plugin };
        }
        return slots;
    }
}
