using System.Collections;
using System.Security.Cryptography;
using System.Text;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Model.Postgres;

/// <summary>
/// Row ids in the order they were committed (a server's rows, the client's acknowledged writes), kept so that taking a
/// <see cref="RowIds"/> snapshot costs nothing and the <see cref="RowDigest"/> of all of them costs only the rows added
/// since it was last asked: a long run observes every member after every step, so a copy or a digest of every row per
/// step made a run's cost grow with the square of its length. Ids are only appended; removing any starts a new storage,
/// so snapshots taken before it keep what they saw.
/// </summary>
public sealed class RowIdLog
{
    private Storage _storage = new([]);

    public int Count => _storage.Ids.Count;

    public bool Contains(long id) => _storage.Index.ContainsKey(id);

    public void Add(long id) => _storage.Add(id);

    /// <summary>Removes every id in <paramref name="gone"/>, keeping the others in order.</summary>
    public void RemoveAll(IReadOnlySet<long> gone) => _storage = new Storage(_storage.Ids.Where(id => !gone.Contains(id)));

    /// <summary>The ids as they stand now; later additions do not show in it.</summary>
    public RowIds Snapshot() => new(_storage, _storage.Ids.Count);

    /// <summary><see cref="RowDigest.Compute"/> of every id, byte for byte.</summary>
    public string Digest() => _storage.Digest();

    internal sealed class Storage
    {
        private IncrementalHash? _md5;
        private int _hashed;
        private long _lastHashed;
        private bool _unordered;
        private string? _digest;

        public Storage(IEnumerable<long> ids)
        {
            foreach (var id in ids)
            {
                Add(id);
            }
        }

        public List<long> Ids { get; } = [];

        /// <summary>Each id's first position.</summary>
        public Dictionary<long, int> Index { get; } = [];

        public void Add(long id)
        {
            Index.TryAdd(id, Ids.Count);
            Ids.Add(id);
            _digest = null;
        }

        /// <summary>
        /// The digest hashes ids in id order: while they were committed in increasing order (the client's ids only grow) it
        /// extends a running md5 by the new ones; otherwise it computes it afresh.
        /// </summary>
        public string Digest()
        {
            if (_digest is not null)
            {
                return _digest;
            }
            if (!_unordered)
            {
                _md5 ??= IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                for (; _hashed < Ids.Count; _hashed++)
                {
                    var id = Ids[_hashed];
                    if (_hashed > 0 && id < _lastHashed)
                    {
                        _unordered = true;
                        _md5.Dispose();
                        _md5 = null;
                        break;
                    }
                    _md5.AppendData(Encoding.UTF8.GetBytes(_hashed == 0 ? $"{id}:{RowDigest.Payload(id)}" : $",{id}:{RowDigest.Payload(id)}"));
                    _lastHashed = id;
                }
            }
            _digest = _unordered ? RowDigest.Compute(Ids) : Convert.ToHexStringLower(_md5!.GetCurrentHash());
            return _digest;
        }
    }
}

/// <summary>A snapshot of a <see cref="RowIdLog"/>: the first <see cref="Count"/> ids, in commit order.</summary>
public sealed class RowIds : IReadOnlyList<long>
{
    private readonly RowIdLog.Storage _storage;

    internal RowIds(RowIdLog.Storage storage, int count)
    {
        _storage = storage;
        Count = count;
    }

    public static RowIds Empty { get; } = new RowIdLog().Snapshot();

    public int Count { get; }

    public long this[int index] => (uint)index < (uint)Count ? _storage.Ids[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Whether <paramref name="id"/> is among these ids (constant time).</summary>
    public bool Contains(long id) => _storage.Index.TryGetValue(id, out var at) && at < Count;

    /// <summary>True when <paramref name="later"/> is this snapshot or one taken after it with only additions in between.</summary>
    internal bool IsPrefixOf(RowIds later) => ReferenceEquals(_storage, later._storage) && Count <= later.Count;

    public IEnumerator<long> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return _storage.Ids[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
