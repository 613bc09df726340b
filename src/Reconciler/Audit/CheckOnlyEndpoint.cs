using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;

namespace PatroniModel.Reconciler.Audit;

/// <summary>
/// An endpoint for <c>ensure --check</c>: everything is read from the real endpoint, but a missing slot is not created.
/// <see cref="ILeaderSession.CreateLogicalSlotAsync"/> answers the leader's current WAL position instead, which is where a
/// slot created now would start at the earliest, so the report's gap is the gap that already exists (the real one, if the
/// slot is created later, can only be larger). <see cref="MissingSlots"/> records that the slot was missing.
/// </summary>
public sealed class CheckOnlyEndpoint(IPatroniEndpoint inner) : IPatroniEndpoint
{
    private readonly List<string> _missing = [];

    /// <summary>The slots a reconciler asked to create through this endpoint (and that were not created).</summary>
    public IReadOnlyList<string> MissingSlots => _missing;

    public Task<PatroniClusterView> GetClusterAsync(CancellationToken cancellationToken = default) => inner.GetClusterAsync(cancellationToken);

    public Task<PatroniSlotConfig> GetSlotConfigAsync(CancellationToken cancellationToken = default) => inner.GetSlotConfigAsync(cancellationToken);

    public async Task<ILeaderSession> ConnectAsync(PatroniMember leader, CancellationToken cancellationToken = default) =>
        new Session(await inner.ConnectAsync(leader, cancellationToken).ConfigureAwait(false), _missing);

    private sealed class Session(ILeaderSession inner, List<string> missing) : ILeaderSession
    {
        private bool _pretended;

        public Task<LeaderIdentity> IdentifySystemAsync(CancellationToken cancellationToken = default) => inner.IdentifySystemAsync(cancellationToken);

        public Task<IReadOnlyList<TimelineSwitch>> TimelineHistoryAsync(int timeline, CancellationToken cancellationToken = default) =>
            inner.TimelineHistoryAsync(timeline, cancellationToken);

        public async Task<SlotState?> FindSlotAsync(string slot, CancellationToken cancellationToken = default) =>
            _pretended ? null : await inner.FindSlotAsync(slot, cancellationToken).ConfigureAwait(false);

        public async Task<NpgsqlLogSequenceNumber> CreateLogicalSlotAsync(string slot, string plugin, CancellationToken cancellationToken = default)
        {
            _pretended = true;
            lock (missing)
            {
                missing.Add(slot);
            }
            return (await inner.IdentifySystemAsync(cancellationToken).ConfigureAwait(false)).XLogPos;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
