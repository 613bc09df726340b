namespace PatroniModel.Model;

/// <summary>
/// One thing that happened in the model, at a virtual time, on a member (or <c>dcs</c>, <c>client</c>, <c>consumer</c>).
/// <see cref="Kind"/> is one of <see cref="ModelEventKinds"/>; <see cref="ToString"/> is one stable trace line.
/// </summary>
public sealed record ModelEvent(long AtMilliseconds, string Member, string Kind, string Detail)
{
    /// <summary><c>t=12000 pg2 promoted tl2 fork=0/3000148</c>.</summary>
    public override string ToString() =>
        Detail.Length == 0 ? $"t={AtMilliseconds} {Member} {Kind}" : $"t={AtMilliseconds} {Member} {Kind} {Detail}";
}

/// <summary>The event kinds the model records (the property suite relies on these strings).</summary>
public static class ModelEventKinds
{
    public const string Writable = "writable";
    public const string ReadOnly = "read-only";
    public const string Promoted = "promoted";
    public const string Demoted = "demoted";
    public const string LeaseAcquired = "lease-acquired";
    public const string LeaseExpired = "lease-expired";
    public const string WriteAcked = "write-acked";
    public const string WriteFailed = "write-failed";
    public const string WriteLost = "write-lost";
    public const string SlotCreated = "slot-created";
    public const string SlotDropped = "slot-dropped";
    public const string SlotCopied = "slot-copied";
    public const string SlotReady = "slot-ready";
    public const string SlotAdvanceFailed = "slot-advance-failed";
    public const string Rewound = "rewound";
    public const string Killed = "killed";
    public const string Started = "started";
    public const string Frozen = "frozen";
    public const string Thawed = "thawed";
    public const string Partitioned = "partitioned";
    public const string Healed = "healed";
    public const string Restarted = "restarted";
    public const string ConfigPatched = "config-patched";
    public const string SyncStandby = "sync-standby";
    public const string Consumed = "consumed";
}

/// <summary>The ordered record of everything that happened in one model cluster.</summary>
public sealed class ModelTrace
{
    private readonly List<ModelEvent> _events = [];

    public IReadOnlyList<ModelEvent> Events => _events;

    public void Record(long at, string member, string kind, string detail = "") => _events.Add(new ModelEvent(at, member, kind, detail));

    public string ToText()
    {
        var text = new System.Text.StringBuilder();
        foreach (var e in _events)
        {
            text.Append(e.ToString()).Append('\n');
        }
        return text.ToString();
    }
}
