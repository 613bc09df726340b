namespace PatroniModel.Model.World;

/// <summary>
/// The network fabric and process table the faults act on: which member processes run, which are frozen
/// (<c>docker pause</c>) or cut off (<c>docker network disconnect</c>). Every change bumps the member's connection epoch,
/// so a replication connection opened before it is known to be broken. The time of each member's last change is kept:
/// a frozen or cut-off member's connections are not closed (no FIN reaches the peer), so the leader's walsender to it
/// stays active until wal_sender_timeout after it went silent (<see cref="SilentSince"/>).
/// </summary>
public sealed class ModelNetwork
{
    private readonly Dictionary<string, Link> _links = new(StringComparer.Ordinal);
    private readonly Time.VirtualClock? _clock;

    public ModelNetwork(IEnumerable<string> members, Time.VirtualClock? clock = null)
    {
        _clock = clock;
        foreach (var member in members)
        {
            _links[member] = new Link();
        }
    }

    public bool IsRunning(string member) => _links[member].Running;

    public bool IsFrozen(string member) => _links[member].Frozen;

    public bool IsPartitioned(string member) => _links[member].Partitioned;

    /// <summary>Running, not frozen, not cut off: others (the DCS, members, the client) can talk to it.</summary>
    public bool IsReachable(string member)
    {
        var link = _links[member];
        return link.Running && !link.Frozen && !link.Partitioned;
    }

    public bool CanTalk(string a, string b) => IsReachable(a) && IsReachable(b);

    public int Epoch(string member) => _links[member].Epoch;

    /// <summary>
    /// When a running member went silent without closing its connections (frozen or cut off, from a reachable state),
    /// or null when it is reachable or stopped.
    /// </summary>
    public long? SilentSince(string member)
    {
        var link = _links[member];
        return link.Running && (link.Frozen || link.Partitioned) ? link.SilentSince : null;
    }

    /// <summary>The member's process generation: changes when it is killed, started or restarted (its connections close).</summary>
    public int ProcessEpoch(string member) => _links[member].ProcessEpoch;

    /// <summary>
    /// Whether a connection the member opened at <paramref name="openedAt"/> (process generation
    /// <paramref name="processEpoch"/>) is still open on the peer's side: the process is the same and running, and
    /// no silence since the connection lasted <paramref name="timeout"/> (the peer's wal_sender_timeout): a frozen or
    /// cut-off member sends no FIN, so its peer keeps the connection until the timeout, and a short silence resumes it.
    /// </summary>
    public bool ConnectionOpen(string member, int processEpoch, long openedAt, long timeout)
    {
        var link = _links[member];
        var now = _clock?.Now ?? 0;
        if (!link.Running || link.ProcessEpoch != processEpoch)
        {
            return false;
        }
        if (link.Frozen || link.Partitioned)
        {
            return now < link.SilentSince + timeout;
        }
        return link.SilentSince < openedAt || link.SilenceEndedAt - link.SilentSince < timeout;
    }

    public void SetRunning(string member, bool running) => Change(member, l =>
    {
        l.Running = running;
        l.ProcessEpoch++;
    });

    public void SetFrozen(string member, bool frozen) => Change(member, l => l.Frozen = frozen);

    public void SetPartitioned(string member, bool partitioned) => Change(member, l => l.Partitioned = partitioned);

    /// <summary>Breaks the member's connections without changing its state (a PostgreSQL restart).</summary>
    public void Bump(string member) => Change(member, l => l.ProcessEpoch++);

    private void Change(string member, Action<Link> change)
    {
        var link = _links[member];
        var wasReachable = link.Running && !link.Frozen && !link.Partitioned;
        change(link);
        link.Epoch++;
        var isReachable = link.Running && !link.Frozen && !link.Partitioned;
        if (wasReachable && link.Running && (link.Frozen || link.Partitioned))
        {
            link.SilentSince = _clock?.Now ?? 0;
        }
        else if (!wasReachable && isReachable && link.SilentSince >= 0)
        {
            link.SilenceEndedAt = _clock?.Now ?? 0;
        }
    }

    private sealed class Link
    {
        public bool Running { get; set; } = true;
        public bool Frozen { get; set; }
        public bool Partitioned { get; set; }
        public int Epoch { get; set; }
        public long SilentSince { get; set; } = -1;
        public long SilenceEndedAt { get; set; } = -1;
        public int ProcessEpoch { get; set; }
    }
}
