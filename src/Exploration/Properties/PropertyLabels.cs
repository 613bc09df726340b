namespace PatroniModel.Exploration.Properties;

/// <summary>The labels of the properties checked after every step (the README's "Properties"), as counterexamples print them.</summary>
public static class PropertyLabels
{
    public const string CurrentLeader = "current leader";
    public const string GapExactness = "gap exactness";
    public const string NoFalseAlarm = "no false alarm";
    public const string Duplicates = "duplicates";
    public const string Divergence = "divergence";
    public const string OneWritableLeader = "one writable leader";
    public const string Durability = "durability";
    public const string Convergence = "convergence";
    public const string Liveness = "liveness";

    /// <summary>Outside a consume the consumer's persisted position never moves back, and a divergence is never reported as anything else.</summary>
    public const string PersistedPosition = "persisted position";

    /// <summary>PostgreSQL 17 with synchronized_standby_slots: a consumer never receives WAL a promoted standby lacks.</summary>
    public const string FailoverSlots = "failover slots";

    /// <summary>Not a property: the cluster threw while applying or observing a step (a bug in the model or the reconciler).</summary>
    public const string Crash = "crash";

    public static IReadOnlyList<string> All { get; } =
        [CurrentLeader, GapExactness, NoFalseAlarm, Duplicates, Divergence, OneWritableLeader, Durability, Convergence, Liveness, FailoverSlots, PersistedPosition];
}

/// <summary>A property that did not hold after step <paramref name="StepIndex"/>: its label and one line saying why.</summary>
public sealed record PropertyViolation(string Label, int StepIndex, string Message)
{
    public override string ToString() => $"[{Label}] after step {StepIndex}: {Message}";
}
