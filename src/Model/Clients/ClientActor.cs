using System.Collections.Immutable;
using Akka.Actor;
using PatroniModel.Model.Postgres;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.Time;
using PatroniModel.Model.World;

namespace PatroniModel.Model.Clients;

/// <summary>
/// The client: writes rows one transaction each, with row ids from a global counter, and records which commits were
/// acknowledged. It connects like libpq with several hosts and <c>target_session_attrs=read-write</c>: it keeps its
/// connection to the member that last took a write while that member answers, and otherwise tries the members in order
/// until one accepts the write. That is how a thawed ex-leader can still take writes for a moment.
/// </summary>
public sealed class ClientActor : ReceiveActor
{
    private readonly ModelWorld _world;
    private readonly ImmutableArray<string> _memberNames;
    private ImmutableDictionary<string, IActorRef> _members = ImmutableDictionary<string, IActorRef>.Empty;
    private readonly RowIdLog _acked = new();
    private readonly HashSet<long> _lostReported = [];
    private readonly Queue<string> _candidates = new();
    private long _nextRowId = 1;
    private string? _sticky;
    private IActorRef _replyTo = ActorRefs.Nobody;
    private int _remaining;
    private int _batchAcked;
    private int _batchFailed;
    private long _currentRow;
    private string? _currentTarget;
    private VirtualClock.Timer? _timeout;
    private long _generation;

    public ClientActor(ModelWorld world, ImmutableArray<string> memberNames)
    {
        _world = world;
        _memberNames = memberNames;
        Receive<WireClient>(m => _members = m.Members);
        Receive<WriteRows>(OnWriteRows);
        Receive<NextRow>(m =>
        {
            if (m.Generation == _generation)
            {
                BeginRow();
            }
        });
        Receive<RowCommitted>(OnCommitted);
        Receive<RowPending>(OnPending);
        Receive<RowRejected>(OnRejected);
        Receive<RowFailed>(m => OnFailed(m.RowId, $"{m.Member}: {m.Reason}"));
        Receive<CommitTimedOut>(m => OnFailed(m.RowId, $"no acknowledgement from {_currentTarget} within {ModelTimings.CommitTimeout} ms"));
        Receive<LeaderPromoted>(OnLeaderPromoted);
        Receive<RowsDiscarded>(OnRowsDiscarded);
        Receive<InspectClient>(_ => Sender.Tell(new ClientInspection(_acked.Snapshot(), _nextRowId)));
    }

    public static Props Props(ModelWorld world, ImmutableArray<string> memberNames) =>
        ActorFactory<ClientActor>.Props(() => new ClientActor(world, memberNames));

    private void Record(string kind, string detail) => _world.Record("client", kind, detail);

    private void OnWriteRows(WriteRows m)
    {
        _replyTo = m.ReplyTo;
        _remaining = m.Rows;
        _batchAcked = 0;
        _batchFailed = 0;
        BeginRow();
    }

    private void BeginRow()
    {
        if (_remaining == 0)
        {
            _currentRow = 0;
            _replyTo.Tell(new WriteBatchDone(_batchAcked, _batchFailed, $"acknowledged {_batchAcked} of {_batchAcked + _batchFailed}"));
            return;
        }
        _remaining--;
        _currentRow = _nextRowId++;
        _candidates.Clear();
        if (_sticky is not null && _world.Network.IsReachable(_sticky))
        {
            _candidates.Enqueue(_sticky);
        }
        foreach (var name in _memberNames)
        {
            if (name != _sticky && _world.Network.IsReachable(name))
            {
                _candidates.Enqueue(name);
            }
        }
        TrySend();
    }

    private void TrySend()
    {
        if (!_candidates.TryDequeue(out var target))
        {
            Fail($"row={_currentRow} no writable leader");
            return;
        }
        _currentTarget = target;
        _members[target].Tell(new InsertRow(_currentRow));
    }

    private void OnCommitted(RowCommitted m)
    {
        if (m.RowId != _currentRow)
        {
            return;
        }
        _timeout?.Cancel();
        _acked.Add(m.RowId);
        _sticky = m.Member;
        _batchAcked++;
        Record(ModelEventKinds.WriteAcked, $"row={m.RowId} lsn={m.Lsn} tl={m.Timeline} {m.Member}");
        Next();
    }

    private void OnPending(RowPending m)
    {
        if (m.RowId == _currentRow)
        {
            _timeout?.Cancel();
            _timeout = _world.Clock.Schedule(ModelTimings.CommitTimeout, Self, new CommitTimedOut(m.RowId));
        }
    }

    private void OnRejected(RowRejected m)
    {
        if (m.RowId != _currentRow)
        {
            return;
        }
        if (_sticky == m.Member)
        {
            _sticky = null;
        }
        TrySend();
    }

    private void OnFailed(long rowId, string reason)
    {
        if (rowId != _currentRow)
        {
            return;
        }
        Fail($"row={rowId} {reason}");
    }

    private void Fail(string detail)
    {
        _timeout?.Cancel();
        _batchFailed++;
        Record(ModelEventKinds.WriteFailed, detail);
        Next();
    }

    private void Next()
    {
        _currentRow = 0;
        _generation++;
        if (_remaining == 0)
        {
            BeginRow();
            return;
        }
        _world.Clock.Schedule(ModelTimings.WriteInterval, Self, new NextRow(_generation));
    }

    private void OnLeaderPromoted(LeaderPromoted m)
    {
        foreach (var id in _acked.Snapshot())
        {
            if (!m.Rows.Contains(id) && _lostReported.Add(id))
            {
                Record(ModelEventKinds.WriteLost, $"row={id} (not on the promoted leader {m.Member})");
            }
        }
    }

    private void OnRowsDiscarded(RowsDiscarded m)
    {
        foreach (var id in m.Rows)
        {
            if (_acked.Contains(id) && _lostReported.Add(id))
            {
                Record(ModelEventKinds.WriteLost, $"row={id} (discarded by pg_rewind on {m.Member})");
            }
        }
    }
}
