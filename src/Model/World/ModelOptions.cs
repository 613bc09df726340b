using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Model;

/// <summary>Options of one model cluster: the reconciler under test and deliberate deviations for testing the tests.</summary>
public sealed record ModelOptions
{
    public static ModelOptions Default { get; } = new();

    /// <summary>
    /// Builds the reconciler Reconcile steps run, once per cluster at its first reconcile (the cluster keeps it, as a real
    /// consumer keeps one across leader changes); default: the product's <see cref="SlotReconciler"/>. The property suite
    /// plants wrong ones here.
    /// </summary>
    public Func<IPatroniEndpoint, ISlotReconciler>? ReconcilerFactory { get; init; }

    /// <summary>
    /// A deliberately wrong model (for the conformance test): replicas race for the lease even when they lag more than
    /// <c>maximum_lag_on_failover</c> behind the last leader's position.
    /// </summary>
    public bool PlantedBugPromoteBeyondMaximumLag { get; init; }

    /// <summary>
    /// A deliberately wrong model (for the property suite's teeth): on PostgreSQL 17 the primary decodes failover slots to
    /// the end of WAL, ignoring <c>synchronized_standby_slots</c>.
    /// </summary>
    public bool PlantedBugIgnoreSynchronizedStandbySlots { get; init; }

    /// <summary>
    /// A deliberately wrong consumer (for the persisted-position property's teeth): after a reconcile that found its slot
    /// behind it or reported a divergence, it persists the slot's position and the leader's timeline as its own (it resumes
    /// from the slot), moving its position backwards or hiding the phantoms it holds.
    /// </summary>
    public bool PlantedBugConsumerAdoptsReportedSlot { get; init; }

    /// <summary>
    /// Replication lag: each WAL record reaches each replica after a delay drawn from the cluster's seeded random in
    /// [0, this] milliseconds (order kept). 0 (the default) streams immediately, as measured on a healthy local network.
    /// </summary>
    public int MaxReplicationDelayMilliseconds { get; init; }

    /// <summary>
    /// Which healthy replica the leader names synchronous standby when it must pick one (see
    /// <c>ModelCluster.PreferredSyncStandby</c>), from the bootstrap on; null: the first by name.
    /// </summary>
    public string? PreferredSyncStandby { get; init; }
}

/// <summary>The model's fixed timings (virtual milliseconds), chosen from measurements of a real Patroni 3.0.2 cluster (README.md, "Measured here"; Patroni's watchdog docs for the thaw window).</summary>
public static class ModelTimings
{
    /// <summary>The client writes one row, one transaction each, every this many ms (about 3 writes in a 0.3 s window).</summary>
    public const long WriteInterval = 100;

    /// <summary>How long a consume waits for the standbys synchronized_standby_slots lists (the real step's statement timeout).</summary>
    public const long ConsumeWaitTimeout = Consume.StandbyWaitSeconds * 1000L;

    /// <summary>A commit that waits (synchronous commit) fails after this long.</summary>
    public const long CommitTimeout = 5_000;

    /// <summary>A thawed member's HA loop notices the DCS state this long after the thaw (measured on a real cluster: about 0.3 s).</summary>
    public const long ThawHaDelay = 300;

    /// <summary>A started member runs its first HA cycle this long after the start (crash recovery).</summary>
    public const long StartupDelay = 1_000;

    /// <summary>A copied permanent slot becomes safe to use after a failover this long after the copy.</summary>
    public const long SlotCopyReadyDelay = 4_000;

    /// <summary>
    /// PostgreSQL's wal_sender_timeout (default 60 s; the images keep it): a walsender whose standby went silent without
    /// closing the connection (frozen, cut off) stays active this long.
    /// </summary>
    public const long WalSenderTimeout = 60_000;

    /// <summary>
    /// After naming a new synchronous standby in synchronous_standby_names, Patroni's leader sleeps this long in the same
    /// HA cycle before it names it in /sync (ha.py process_sync_replication: <c>time.sleep(2)</c>).
    /// </summary>
    public const long SyncStandbyWait = 2_000;

    /// <summary>
    /// A member racing for the lock asks the other members' REST APIs for their status (ha.py fetch_nodes_statuses) and
    /// waits this long for one that hangs (frozen or cut off): Patroni's request timeout.
    /// </summary>
    public const long RestStatusTimeout = 2_000;

    /// <summary>
    /// Patroni 3.0.2's promote task: pg_ctl promote, then pg_controldata polled once a second (postgresql/__init__.py
    /// _wait_promote, polling_loop(loop_wait)). The first poll comes too early; the task ends after its 1 s sleep.
    /// </summary>
    public const long PromoteTask = 1_000;

    /// <summary>
    /// With loop_wait 2 or more, the second poll finds the server in production and the task wakes the HA loop. Measured
    /// on a real cluster (PostgreSQL 15, Patroni 3.0.2): the woken cycle runs 1.16 s after "promoted self to leader", and
    /// its slot pass drops the unknown slots (campaign seed 20261205 #24).
    /// </summary>
    public const long PromoteTaskWake = 1_150;

    /// <summary>
    /// The first leader cycle after the promote task starts a CHECKPOINT in a thread, which wakes the HA loop when it
    /// returns (rewind.py ensure_checkpoint_after_promote); the woken cycle runs that cycle's scheduled reload.
    /// </summary>
    public const long CheckpointAfterPromote = 150;

    /// <summary>
    /// A replica whose etcd watch the leader key's expiry ended runs its cycle within this many ms (etcd notifies the
    /// watchers on its next expiry sweep; the replicas' reads then race).
    /// </summary>
    public const int WatchWakeJitter = 300;

    /// <summary>
    /// How long a switchover's demotion of the old leader (a clean stop, then a start as a replica) keeps it unavailable
    /// as a candidate and busy for POST /restart: measured on real clusters, a demotion and promotion take 1.05 to 1.68 s.
    /// </summary>
    public const long DemoteDuration = 1_700;

    /// <summary>Settle gives up after this much virtual time.</summary>
    public const long SettleTimeout = 120_000;

    /// <summary>Settle looks at the cluster this often.</summary>
    public const long SettlePoll = 500;

    /// <summary>A switchover or failover request gives up after this long (Patroni's REST waits about as long).</summary>
    public const long SwitchoverTimeout = 30_000;
}
