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
    /// or null when it is reachable, stopped (a killed process's sockets are closed by its kernel) or was restarted since.
    /// </summary>
    public long? SilentSince(string member)
    {
        var link = _links[member];
        return link.Running && (link.Frozen || link.Partitioned) ? link.SilentSince : null;
    }

    public void SetRunning(string member, bool running) => Change(member, l => l.Running = running);

    public void SetFrozen(string member, bool frozen) => Change(member, l => l.Frozen = frozen);

    public void SetPartitioned(string member, bool partitioned) => Change(member, l => l.Partitioned = partitioned);

    /// <summary>Breaks the member's connections without changing its state (a PostgreSQL restart).</summary>
    public void Bump(string member) => Change(member, _ => { });

    private void Change(string member, Action<Link> change)
    {
        var link = _links[member];
        var wasReachable = link.Running && !link.Frozen && !link.Partitioned;
        change(link);
        link.Epoch++;
        if (wasReachable && link.Running && (link.Frozen || link.Partitioned))
        {
            link.SilentSince = _clock?.Now ?? 0;
        }
    }

    private sealed class Link
    {
        public bool Running { get; set; } = true;
        public bool Frozen { get; set; }
        public bool Partitioned { get; set; }
        public int Epoch { get; set; }
        public long SilentSince { get; set; }
    }
}
