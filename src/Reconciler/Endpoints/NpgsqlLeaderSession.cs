using System.Globalization;
using System.Text;
using Npgsql;
using Npgsql.Replication;
using NpgsqlTypes;
using PatroniModel.Reconciler.Naming;

namespace PatroniModel.Reconciler.Endpoints;

/// <summary>
/// The real <see cref="ILeaderSession"/>: one SQL connection to the leader, plus a replication connection opened on
/// first use for <c>IDENTIFY_SYSTEM</c> and <c>TIMELINE_HISTORY</c>
/// (https://www.postgresql.org/docs/15/protocol-replication.html). Slot names are validated before any SQL;
/// values are always sent as parameters.
/// </summary>
public sealed class NpgsqlLeaderSession : ILeaderSession
{
    private readonly string _member;
    private readonly string _connectionString;
    private readonly NpgsqlConnection _connection;
    private LogicalReplicationConnection? _replication;

    internal NpgsqlLeaderSession(string member, string connectionString, NpgsqlConnection connection)
    {
        _member = member;
        _connectionString = connectionString;
        _connection = connection;
    }

    /// <inheritdoc />
    public async Task<LeaderIdentity> IdentifySystemAsync(CancellationToken cancellationToken = default)
    {
        var replication = await ReplicationAsync(cancellationToken).ConfigureAwait(false);
        var identity = await replication.IdentifySystem(cancellationToken).ConfigureAwait(false);
        return new LeaderIdentity(identity.SystemId, checked((int)identity.Timeline), identity.XLogPos);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TimelineSwitch>> TimelineHistoryAsync(int timeline, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeline, 1);
        if (timeline == 1)
        {
            return [];
        }
        var replication = await ReplicationAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var file = await replication.TimelineHistory((uint)timeline, cancellationToken).ConfigureAwait(false);
            return ParseHistory(Encoding.UTF8.GetString(file.Content), file.FileName);
        }
        catch (InvalidCastException)
        {
            // Npgsql 10.0.3 reads the content column as bytea, but PostgreSQL 15 declares it text (measured here), so the
            // call always fails against PG15. Read the same file the walsender would send, over SQL instead
            // (pg_read_binary_file needs superuser or pg_read_server_files).
            await _replication!.DisposeAsync().ConfigureAwait(false);
            _replication = null;
            return await ReadHistoryFileAsync(timeline, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<TimelineSwitch>> ReadHistoryFileAsync(int timeline, CancellationToken cancellationToken)
    {
        var fileName = $"{timeline:X8}.history";
        await using var command = new NpgsqlCommand("SELECT pg_catalog.pg_read_binary_file($1)", _connection)
        {
            Parameters = { new NpgsqlParameter { Value = "pg_wal/" + fileName, NpgsqlDbType = NpgsqlDbType.Text } },
        };
        var content = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[]
                      ?? throw new InvalidOperationException($"{fileName} on {_member} is empty");
        return ParseHistory(Encoding.UTF8.GetString(content), fileName);
    }

    /// <inheritdoc />
    public async Task<SlotState?> FindSlotAsync(string slot, CancellationToken cancellationToken = default)
    {
        SlotName.Validate(slot);
        await using var command = new NpgsqlCommand(
            "SELECT slot_name::text, slot_type, plugin::text, database::text, active, restart_lsn, confirmed_flush_lsn, " +
            (HasFailoverSlots ? "failover " : "false ") +
            "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1::name",
            _connection)
        {
            Parameters = { new NpgsqlParameter { Value = slot, NpgsqlDbType = NpgsqlDbType.Text } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return new SlotState(
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetBoolean(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(5),
            reader.IsDBNull(6) ? null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(6),
            !reader.IsDBNull(7) && reader.GetBoolean(7));
    }

    /// <summary>PostgreSQL 17 and later have failover slots (<c>pg_replication_slots.failover</c>, <c>failover =&gt; true</c>).</summary>
    private bool HasFailoverSlots => _connection.PostgreSqlVersion.Major >= 17;

    /// <inheritdoc />
    /// <remarks>
    /// <c>pg_create_logical_replication_slot</c> returns the slot's consistent point, which is its
    /// <c>confirmed_flush_lsn</c>. On PostgreSQL 15 creating a logical slot writes a running-transactions record
    /// first, so the consistent point is always past the WAL position seen just before.
    /// </remarks>
    public async Task<NpgsqlLogSequenceNumber> CreateLogicalSlotAsync(string slot, string plugin, CancellationToken cancellationToken = default)
    {
        SlotName.Validate(slot);
        ArgumentException.ThrowIfNullOrEmpty(plugin);
        await using var command = new NpgsqlCommand(
            HasFailoverSlots
                ? "SELECT lsn FROM pg_catalog.pg_create_logical_replication_slot($1::name, $2::name, false, false, true)"
                : "SELECT lsn FROM pg_catalog.pg_create_logical_replication_slot($1::name, $2::name)",
            _connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = slot, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter { Value = plugin, NpgsqlDbType = NpgsqlDbType.Text },
            },
        };
        try
        {
            var lsn = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return lsn is NpgsqlLogSequenceNumber point
                ? point
                : throw new InvalidOperationException($"pg_create_logical_replication_slot('{slot}') on {_member} returned no LSN");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            throw new SlotAlreadyExistsException(slot);
        }
    }

    /// <summary>
    /// Parses a timeline history file: one line per ancestor timeline, <c>parentTLI&lt;TAB&gt;switchpoint&lt;TAB&gt;reason</c>
    /// (https://www.postgresql.org/docs/15/continuous-archiving.html#BACKUP-TIMELINES). Blank and <c>#</c> lines are skipped.
    /// </summary>
    /// <exception cref="FormatException">A line is not of that shape; the message names the file and the line.</exception>
    public static IReadOnlyList<TimelineSwitch> ParseHistory(string content, string fileName = "history file")
    {
        ArgumentNullException.ThrowIfNull(content);
        var switches = new List<TimelineSwitch>();
        var lineNumber = 0;
        foreach (var raw in content.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var fields = line.Split(['\t', ' '], 3, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var timeline)
                || !NpgsqlLogSequenceNumber.TryParse(fields[1], out var switchPoint))
            {
                throw new FormatException($"{fileName} line {lineNumber}: expected 'timeline<TAB>X/Y<TAB>reason', got '{line}'");
            }
            switches.Add(new TimelineSwitch(timeline, switchPoint));
        }
        return switches;
    }

    public async ValueTask DisposeAsync()
    {
        if (_replication is not null)
        {
            await _replication.DisposeAsync().ConfigureAwait(false);
        }
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<LogicalReplicationConnection> ReplicationAsync(CancellationToken cancellationToken)
    {
        if (_replication is null)
        {
            var replication = new LogicalReplicationConnection(_connectionString);
            try
            {
                await replication.Open(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await replication.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _replication = replication;
        }
        return _replication;
    }
}
