using NpgsqlTypes;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;
using PatroniModel.Reconciler.Endpoints;

namespace PatroniModel.Model.Runtime;

/// <summary>
/// The reconciler's view of the model: Patroni's <c>GET /cluster</c> and <c>GET /config</c> from the DCS, and a session on
/// a member's PostgreSQL through its actor. Every Task completes synchronously (the actors run on the calling thread).
/// An unreachable member (stopped, frozen, cut off) does not answer, as a real one would not.
/// </summary>
internal sealed class ModelEndpoint(ModelCluster cluster) : IPatroniEndpoint
{
    public const string SystemId = "7300000000000000001";

    public Task<PatroniClusterView> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var answeredBy = cluster.Config.MemberNames.FirstOrDefault(cluster.Network.IsReachable)
            ?? throw new PatroniUnreachableException(
                "no Patroni REST endpoint answered: " + string.Join(", ", cluster.Config.MemberNames.Select(n => $"{n} {Describe(n)}")));
        var view = cluster.ReadDcs();
        var holder = view.Lease?.Holder;
        var members = new List<PatroniMember>();
        foreach (var key in view.Members)
        {
            var role = key.Name == holder ? "leader" : view.Sync.Standby == key.Name ? "sync_standby" : "replica";
            members.Add(new PatroniMember(key.Name, role, key.State, key.Name, 5432, key.Timeline));
        }
        if (holder is not null && members.All(m => m.Name != holder))
        {
            members.Add(new PatroniMember(holder, "leader", "running", holder, 5432, null));
        }
        return Task.FromResult(new PatroniClusterView(members, $"http://{answeredBy}:8008/cluster"));
    }

    public Task<PatroniSlotConfig> GetSlotConfigAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var config = cluster.Config;
        return Task.FromResult(new PatroniSlotConfig([.. config.PermanentSlots], [.. config.IgnoreSlots.Select(n => new IgnoreSlotRule(Name: n))]));
    }

    public Task<ILeaderSession> ConnectAsync(PatroniMember leader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leader);
        cancellationToken.ThrowIfCancellationRequested();
        if (!cluster.HasMember(leader.Name))
        {
            throw new PatroniUnreachableException($"no member {leader.Name}");
        }
        if (!cluster.Network.IsReachable(leader.Name))
        {
            throw new PatroniUnreachableException($"cannot connect to {leader.Name}'s PostgreSQL: {Describe(leader.Name)}");
        }
        return Task.FromResult<ILeaderSession>(new ModelLeaderSession(cluster, leader.Name));
    }

    private string Describe(string member) =>
        !cluster.Network.IsRunning(member) ? "stopped"
        : cluster.Network.IsFrozen(member) ? "frozen (does not answer)"
        : cluster.Network.IsPartitioned(member) ? "unreachable (partitioned)"
        : "running";
}

/// <summary>A session on one member's PostgreSQL in the model.</summary>
internal sealed class ModelLeaderSession(ModelCluster cluster, string member) : ILeaderSession
{
    public Task<LeaderIdentity> IdentifySystemAsync(CancellationToken cancellationToken = default)
    {
        var identity = Ask<SystemIdentity>(new IdentifySystem());
        return Task.FromResult(new LeaderIdentity(ModelEndpoint.SystemId, identity.Timeline, new NpgsqlLogSequenceNumber(identity.XLogPos.Value)));
    }

    public Task<IReadOnlyList<TimelineSwitch>> TimelineHistoryAsync(int timeline, CancellationToken cancellationToken = default)
    {
        var history = Ask<TimelineHistoryAnswer>(new ReadTimelineHistory(timeline));
        IReadOnlyList<TimelineSwitch> switches = [.. history.History.Select(h => new TimelineSwitch(h.Timeline, new NpgsqlLogSequenceNumber(h.End.Value)))];
        return Task.FromResult(switches);
    }

    public Task<SlotState?> FindSlotAsync(string slot, CancellationToken cancellationToken = default)
    {
        var answer = Ask<SlotAnswer>(new FindSlot(slot));
        SlotState? state = answer.Slot is { } s
            ? new SlotState(s.Slot, "logical", "test_decoding", "postgres", false,
                new NpgsqlLogSequenceNumber(s.RestartLsn.Value), new NpgsqlLogSequenceNumber(s.ConfirmedFlush.Value), s.Failover)
            : null;
        return Task.FromResult(state);
    }

    public Task<NpgsqlLogSequenceNumber> CreateLogicalSlotAsync(string slot, string plugin, CancellationToken cancellationToken = default)
    {
        var answer = Ask<MemberAnswer>(new CreateLogicalSlot(slot, "the reconciler"));
        if (!answer.Ok)
        {
            if (answer.Detail.Contains("already exists", StringComparison.Ordinal))
            {
                throw new SlotAlreadyExistsException(slot);
            }
            throw new PatroniUnreachableException($"cannot create slot {slot} on {member}: {answer.Detail}");
        }
        return Task.FromResult(new NpgsqlLogSequenceNumber(answer.Lsn.Value));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private T Ask<T>(object request) where T : class =>
        cluster.Query<T>(cluster.MemberRef(member), request)
        ?? throw new PatroniUnreachableException($"{member}'s PostgreSQL did not answer");
}
