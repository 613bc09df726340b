using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Scenarios.Faults;

/// <summary>
/// One step of a fault sequence: the single vocabulary that the generators, the model and the real cluster speak.
/// <see cref="object.ToString"/> is one short stable line, so a history reads like a Jepsen history.
/// </summary>
public abstract record Step
{
    /// <summary>The step's kind as written in sequence files (<c>kill</c>, <c>switchover</c>, ...).</summary>
    public abstract string Kind { get; }

    /// <summary>The member the step acts on, when it acts on one.</summary>
    public virtual IEnumerable<string> Members => [];

    /// <summary>The slot the step acts on, when it acts on one.</summary>
    public virtual string? Slot => null;

    /// <summary>Who takes the step, in Jepsen's terms: the client, the consumer, the nemesis, the administrator, or time.</summary>
    public abstract StepRole Role { get; }
}

/// <summary>Who takes a step (Jepsen's roles, plus the CDC consumer and the passing of time).</summary>
public enum StepRole
{
    /// <summary>The application writing to the leader: write, advance-wal, checkpoint.</summary>
    Client,

    /// <summary>The CDC consumer: create-slot, drop-slot, consume, reconcile.</summary>
    Consumer,

    /// <summary>Faults on a member's process or network: kill, start, freeze, thaw, partition, heal.</summary>
    Nemesis,

    /// <summary>An operator through Patroni's REST API: switchover, failover, restart, patch-config.</summary>
    Admin,

    /// <summary>Time passing: settle, wait.</summary>
    Time,
}

/// <summary>
/// Create a logical slot on the leader (refused when one of that name exists). With <paramref name="Permanent"/>, declare
/// it in Patroni's permanent slots instead (<c>PATCH /config</c>, permanent_slots += slot) and wait until the leader has
/// it: Patroni creates it at the current LSN when missing, and adopts an existing slot of that name at its own position
/// (it creates permanent slots only WHERE NOT EXISTS). Refused when the slot is permanent already.
/// </summary>
public sealed record CreateSlot(string SlotName, bool Permanent = false) : Step
{
    public override string Kind => StepKinds.CreateSlot;
    public override StepRole Role => StepRole.Consumer;
    public override string? Slot => SlotName;
    public override string ToString() => Permanent ? $"create-slot {SlotName} permanent" : $"create-slot {SlotName}";
}

/// <summary>Drop a slot on the leader (and from the permanent slots when it is one).</summary>
public sealed record DropSlot(string SlotName) : Step
{
    public override string Kind => StepKinds.DropSlot;
    public override StepRole Role => StepRole.Consumer;
    public override string? Slot => SlotName;
    public override string ToString() => $"drop-slot {SlotName}";
}

/// <summary>The client writes <paramref name="Rows"/> rows, one transaction each, to whoever is leader.</summary>
public sealed record Write(int Rows) : Step
{
    public override string Kind => StepKinds.Write;
    public override StepRole Role => StepRole.Client;
    public override string ToString() => $"write {Rows}";
}

/// <summary>The consumer reads the slot up to the current end and confirms (persists) that position.</summary>
public sealed record Consume(string SlotName) : Step
{
    /// <summary>
    /// How long a consume waits, on PostgreSQL 17 with synchronized_standby_slots, for the standbys to confirm the end of WAL
    /// before it is refused with nothing decoded (model time on the model, statement_timeout on reality).
    /// </summary>
    public const int StandbyWaitSeconds = 5;

    /// <summary>The start of the refusal of a consume that waited <see cref="StandbyWaitSeconds"/> for the standbys in vain.</summary>
    public const string StandbyWaitRefusal = "waiting for synchronized_standby_slots";

    public override string Kind => StepKinds.Consume;
    public override StepRole Role => StepRole.Consumer;
    public override string? Slot => SlotName;
    public override string ToString() => $"consume {SlotName}";
}

/// <summary>Move WAL by about <paramref name="Bytes"/> bytes without client rows (a logical message).</summary>
public sealed record AdvanceWal(long Bytes) : Step
{
    public override string Kind => StepKinds.AdvanceWal;
    public override StepRole Role => StepRole.Client;
    public override string ToString() => $"advance-wal {Bytes}";
}

/// <summary>CHECKPOINT on the leader.</summary>
public sealed record Checkpoint : Step
{
    public override string Kind => StepKinds.Checkpoint;
    public override StepRole Role => StepRole.Client;
    public override string ToString() => "checkpoint";
}

/// <summary>Graceful switchover (<c>POST /switchover</c>); <paramref name="To"/> null lets Patroni pick.</summary>
public sealed record Switchover(string From, string? To = null) : Step
{
    public override string Kind => StepKinds.Switchover;
    public override StepRole Role => StepRole.Admin;
    public override IEnumerable<string> Members => To is null ? [From] : [From, To];
    public override string ToString() => $"switchover {From}->{To ?? "any"}";
}

/// <summary>Manual failover to a candidate (<c>POST /failover</c>); works without a healthy leader.</summary>
public sealed record Failover(string To) : Step
{
    public override string Kind => StepKinds.Failover;
    public override StepRole Role => StepRole.Admin;
    public override IEnumerable<string> Members => [To];
    public override string ToString() => $"failover ->{To}";
}

/// <summary>Base of the steps that act on one member.</summary>
public abstract record MemberStep(string Member) : Step
{
    public override IEnumerable<string> Members => [Member];
    public override StepRole Role => StepRole.Nemesis;
    public sealed override string ToString() => $"{Kind} {Member}";
}

/// <summary>SIGKILL the member (Patroni and PostgreSQL die at once).</summary>
public sealed record Kill(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Kill;
}

/// <summary>Start a killed member again.</summary>
public sealed record Start(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Start;
}

/// <summary>Freeze the member (<c>docker pause</c>: Patroni and PostgreSQL both stop running).</summary>
public sealed record Freeze(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Freeze;
}

/// <summary>Thaw a frozen member (<c>docker unpause</c>).</summary>
public sealed record Thaw(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Thaw;
}

/// <summary>Cut the member off the network (DCS and the other members).</summary>
public sealed record Partition(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Partition;
}

/// <summary>Reconnect a partitioned member.</summary>
public sealed record Heal(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Heal;
}

/// <summary>Patroni restarts the member's PostgreSQL (<c>POST /restart</c>); reloads Patroni's slot state.</summary>
public sealed record Restart(string Member) : MemberStep(Member)
{
    public override string Kind => StepKinds.Restart;
    public override StepRole Role => StepRole.Admin;
}

/// <summary>Change Patroni's dynamic configuration (<c>PATCH /config</c>).</summary>
public sealed record PatchConfig(ConfigPatch Patch) : Step
{
    public override string Kind => StepKinds.PatchConfig;
    public override StepRole Role => StepRole.Admin;
    public override string ToString() => $"patch-config {Patch}";
}

/// <summary>
/// Run the reconciler's EnsureSlot for the slot with the consumer's last confirmed position
/// (or <paramref name="LastConfirmed"/> when given, to test the reconciler at a chosen position, read on
/// <paramref name="Timeline"/> when given, else on the leader's current timeline).
/// </summary>
public sealed record Reconcile(string SlotName, Lsn? LastConfirmed = null, int? Timeline = null) : Step
{
    public override string Kind => StepKinds.Reconcile;
    public override StepRole Role => StepRole.Consumer;
    public override string? Slot => SlotName;
    public override string ToString() =>
        (LastConfirmed, Timeline) switch
        {
            ({ } lc, { } tl) => $"reconcile {SlotName} from {lc} tl{tl}",
            ({ } lc, null) => $"reconcile {SlotName} from {lc}",
            _ => $"reconcile {SlotName}",
        };
}

/// <summary>Wait until the cluster is stable: one leader, every running member streaming from it (or a documented timeout).</summary>
public sealed record Settle : Step
{
    public override string Kind => StepKinds.Settle;
    public override StepRole Role => StepRole.Time;
    public override string ToString() => "settle";
}

/// <summary>Let <paramref name="Seconds"/> of (virtual or real) time pass.</summary>
public sealed record Wait(int Seconds) : Step
{
    public override string Kind => StepKinds.Wait;
    public override StepRole Role => StepRole.Time;
    public override string ToString() => $"wait {Seconds}s";
}

/// <summary>The step kinds as written in sequence files.</summary>
public static class StepKinds
{
    public const string CreateSlot = "create-slot";
    public const string DropSlot = "drop-slot";
    public const string Write = "write";
    public const string Consume = "consume";
    public const string AdvanceWal = "advance-wal";
    public const string Checkpoint = "checkpoint";
    public const string Switchover = "switchover";
    public const string Failover = "failover";
    public const string Kill = "kill";
    public const string Start = "start";
    public const string Freeze = "freeze";
    public const string Thaw = "thaw";
    public const string Partition = "partition";
    public const string Heal = "heal";
    public const string Restart = "restart";
    public const string PatchConfig = "patch-config";
    public const string Reconcile = "reconcile";
    public const string Settle = "settle";
    public const string Wait = "wait";

    public static IReadOnlyList<string> All { get; } =
    [
        CreateSlot, DropSlot, Write, Consume, AdvanceWal, Checkpoint, Switchover, Failover, Kill, Start,
        Freeze, Thaw, Partition, Heal, Restart, PatchConfig, Reconcile, Settle, Wait,
    ];
}
