namespace PatroniModel.Reconciler.Endpoints;

/// <summary>No Patroni REST endpoint answered. The message lists each endpoint tried and what it said.</summary>
public sealed class PatroniUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Patroni answered, but no member holds the leader role. The message lists the members seen.</summary>
public sealed class NoLeaderException(PatroniClusterView seen)
    : Exception($"no leader in the Patroni cluster: {seen}")
{
    public PatroniClusterView Seen { get; } = seen;
}

/// <summary>The slot was created by someone else between looking and creating (PostgreSQL SQLSTATE 42710).</summary>
public sealed class SlotAlreadyExistsException(string slot) : Exception($"replication slot '{slot}' already exists")
{
    public string Slot { get; } = slot;
}

/// <summary>A slot name PostgreSQL would refuse; rejected before any SQL is sent.</summary>
public sealed class InvalidSlotNameException(string? slot)
    : ArgumentException($"invalid slot name '{slot}': use lower-case letters, digits and underscores, 1 to 63 characters")
{
    public string? Slot { get; } = slot;
}

/// <summary>The leader Patroni named could not be reached over the PostgreSQL protocol.</summary>
public sealed class LeaderUnreachableException(string leader, string host, int port, Exception inner)
    : Exception($"cannot connect to leader {leader} at {host}:{port}: {inner.Message}", inner)
{
    public string Leader { get; } = leader;
}
