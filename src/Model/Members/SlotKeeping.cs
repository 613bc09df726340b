using System.Collections.Immutable;
using PatroniModel.Model.Postgres;
using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.Model.Members;

/// <summary>What Patroni does with one logical slot when it reloads its slot state.</summary>
internal enum SlotFate
{
    /// <summary>Left alone: permanent, ignored, or a standby's synced failover slot.</summary>
    Keep,

    /// <summary>A permanent slot on a member that is no longer primary: from now on it is a copy Patroni advances.</summary>
    KeepAsCopy,

    /// <summary>Unknown to Patroni (neither permanent nor matched by ignore_slots): dropped.</summary>
    Drop,
}

/// <summary>
/// Patroni's slot keeping (patroni/postgresql/slots.py, <c>SlotsHandler</c>): the leader's physical slots for its members,
/// the permanent slots it creates when missing, and the reload that drops every inactive slot it does not know. Pure
/// functions over the slots and the dynamic configuration; the member actor applies what they decide.
/// </summary>
internal static class SlotKeeping
{
    /// <summary>
    /// A reload of the slot state (a permanent-slots change, a restart, a role change, a start, a member that joins):
    /// inactive slots that are neither permanent nor matched by ignore_slots are dropped. A standby's synced failover slot
    /// survives because PostgreSQL 17 refuses to drop it during recovery (Patroni 4.0.7 tries).
    /// </summary>
    public static SlotFate OnReload(LogicalSlot slot, ClusterConfig config, bool isPrimary)
    {
        if (config.PermanentSlots.Contains(slot.Name))
        {
            return !isPrimary && !slot.IsCopy ? SlotFate.KeepAsCopy : SlotFate.Keep;
        }
        if (slot.IsCopy && slot.Failover)
        {
            return SlotFate.Keep;
        }
        if (!slot.IsCopy && config.IgnoreSlots.Contains(slot.Name))
        {
            return SlotFate.Keep;
        }
        return SlotFate.Drop;
    }

    /// <summary>The permanent slots the leader lacks: Patroni creates them at the current LSN.</summary>
    public static IEnumerable<string> MissingPermanent(ClusterConfig config, IReadOnlyDictionary<string, LogicalSlot> slots) =>
        config.PermanentSlots.Where(name => !slots.ContainsKey(name));

    /// <summary>
    /// The slots a change of the permanent slots replaces on the primary: an existing own slot newly declared permanent is
    /// dropped and re-created at the current LSN.
    /// </summary>
    public static IEnumerable<string> ReplacedByDeclaration(
        ImmutableArray<string> known, ImmutableArray<string> declared, IReadOnlyDictionary<string, LogicalSlot> slots) =>
        declared.Where(name => !known.Contains(name) && slots.TryGetValue(name, out var existing) && !existing.IsCopy);

    /// <summary>
    /// The leader's physical slots (Patroni's use_slots), one per member with a live member key: <paramref name="physical"/>
    /// is null before the leader's first loop. A member whose key the leader saw and that is gone (expired) loses its slot;
    /// a key not published yet does not. <c>Joined</c> lists the members that got a new slot (Patroni then reloads).
    /// </summary>
    public static (ImmutableSortedSet<string> Physical, ImmutableSortedSet<string> Seen, ImmutableSortedSet<string> Joined) PhysicalSlots(
        ImmutableSortedSet<string>? physical, ImmutableSortedSet<string> seen, ImmutableSortedSet<string> live)
    {
        var joined = physical is null ? live : live.Except(physical);
        var left = seen.Except(live);
        return ((physical ?? []).Union(live).Except(left), seen.Union(live).Except(left), joined);
    }
}
