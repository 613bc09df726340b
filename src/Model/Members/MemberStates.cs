using PatroniModel.Model.Time;

namespace PatroniModel.Model.Members;

/// <summary>The member's process and role: whether Patroni believes it leads, and whether its container is frozen or stopped.</summary>
internal sealed record MemberRole(bool IsLeader, bool Frozen, bool Stopped);

/// <summary>
/// The HA loop's own state: the timer of the next cycle (<paramref name="Generation"/> makes stale timers harmless), a DCS
/// round trip in flight or blocked (a cut-off member), when the held lease runs out, why the last race was entered, and
/// whether the running cycle was woken by a watch rather than by loop_wait, and whether the cycle is asleep inside itself
/// (Patroni's 2 s in process_sync_replication, or a racer's wait for a REST timeout) rather than blocked on the DCS.
/// </summary>
internal sealed record HaLoopState(long Generation, VirtualClock.Timer? Timer, bool InFlight, bool Blocked, long LeaseDeadline, string RaceReason, bool WokenCycle, bool Sleeping = false)
{
    public static HaLoopState Idle { get; } = new(0, null, false, false, 0, "won the leader race", false);
}

/// <summary>
/// A replica's streaming connection: its upstream, whether it streams, both ends' network epochs when it started (a change
/// means the connection broke), and how many times the upstream refused it in a row.
/// </summary>
internal sealed record StreamState(string? Upstream, bool Streaming, int MyEpoch, int UpstreamEpoch, int Refusals)
{
    public static StreamState None { get; } = new(null, false, 0, 0, 0);
}
