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
    /// The leader's physical slots (Patroni's use_slots), one per member with a live member key: <paramref name="physical"/>
    /// is null before the leader's first loop. A member whose key the leader saw and that is gone (expired) loses its slot,
    /// unless <paramref name="stillActive"/> says its walsender is still active: Patroni's drop then fails (slots.py
    /// <c>_drop_incorrect_slots</c>: "Unable to drop unknown replication slot ..., slot is still active"), the slot stays,
    /// and the failed drop schedules a reload of the slot state, tried again every loop. A key not published yet does not
    /// lose its slot. <c>Joined</c> lists the members that got a new slot and <c>DropFailed</c> those whose slot could not
    /// be dropped: either makes Patroni reload.
    /// </summary>
    public static (ImmutableSortedSet<string> Physical, ImmutableSortedSet<string> Seen, ImmutableSortedSet<string> Joined, ImmutableSortedSet<string> DropFailed) PhysicalSlots(
        ImmutableSortedSet<string>? physical, ImmutableSortedSet<string> seen, ImmutableSortedSet<string> live, Func<string, bool>? stillActive = null)
    {
        var joined = physical is null ? live : live.Except(physical);
        var gone = seen.Except(live);
        var dropFailed = stillActive is null ? [] : gone.Where(m => (physical?.Contains(m) ?? false) && stillActive(m)).ToImmutableSortedSet(StringComparer.Ordinal);
        var left = gone.Except(dropFailed);
        return ((physical ?? []).Union(live).Except(left), seen.Union(live).Except(left), joined, dropFailed);
    }
}
