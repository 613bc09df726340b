using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Reconciler.Naming;
using PatroniModel.Reconciler.Endpoints;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Reconciler.Telemetry;

namespace PatroniModel.Reconciler.Audit;

/// <summary>How an audit judges what it reads.</summary>
public sealed record AuditOptions
{
    /// <summary>A slot retaining more WAL than this is a <see cref="HazardKind.RetainsTooMuch"/> hazard; null: no limit.</summary>
    public long? MaxRetainedBytes { get; init; }
}

/// <summary>
/// Reads every logical slot on every member of a Patroni cluster and says, per slot, what protects it and what could lose
/// it (the <c>audit</c> command and the exporter). Read-only: every PostgreSQL session runs with
/// <c>default_transaction_read_only=on</c>, nothing is created or dropped, and Patroni is only asked <c>GET /cluster</c>
/// and <c>GET /config</c>. An unreachable member is reported and the others are still audited.
/// </summary>
public sealed class ClusterAuditor : IDisposable
{
    private readonly PatroniEndpointOptions _options;
    private readonly AuditOptions _audit;
    private readonly ILogger _logger;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public ClusterAuditor(PatroniEndpointOptions options, AuditOptions? audit = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RestUrls is null || options.RestUrls.Count == 0)
        {
            throw new ArgumentException("at least one Patroni REST URL is needed", nameof(options));
        }
        _options = options with { ReadOnly = true };
        _audit = audit ?? new AuditOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Audits the cluster once.</summary>
    /// <exception cref="PatroniUnreachableException">No REST URL answered; the message names each URL and what it said.</exception>
    public async Task<AuditReport> AuditAsync(CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        var (clusterJson, answeredBy) = await GetJsonAsync("cluster", cancellationToken).ConfigureAwait(false);
        var members = MembersOf(clusterJson);
        // No dynamic configuration (a cluster not bootstrapped yet answers HTTP 502): no slot is permanent or ignored.
        var config = PatroniSlotConfig.Empty;
        string? configError = null;
        try
        {
            var (configJson, _) = await GetJsonAsync("config", cancellationToken).ConfigureAwait(false);
            config = PatroniRestEndpoint.ParseSlotConfig(configJson);
        }
        catch (PatroniUnreachableException e)
        {
            configError = e.Message;
        }

        var reads = await Task.WhenAll(members.Select(m => ReadMemberAsync(m, cancellationToken))).ConfigureAwait(false);
        var leader = reads.FirstOrDefault(r => r.Member.Member.IsLeader);
        var candidates = reads.Where(r => !r.Member.Member.IsLeader && !r.Member.NoFailover).ToList();

        var records = new List<SlotAudit>();
        foreach (var read in reads)
        {
            if (read.Error is not null)
            {
                records.Add(new SlotAudit
                {
                    Member = read.Member.Member.Name,
                    Role = read.Member.Member.Role,
                    Protection = SlotGuard.None,
                    Error = read.Error,
                    Hazards = [new Hazard(HazardKind.MemberUnreachable, $"PostgreSQL of {read.Member.Member.Name} could not be read: {read.Error}; its slots were not audited")],
                });
                continue;
            }
            foreach (var slot in read.Slots.Where(s => s.Type == "logical"))
            {
                records.Add(read.Member.Member.IsLeader
                    ? JudgeOnLeader(read, slot, candidates, config)
                    : JudgeOnStandby(read, slot, leader, config));
            }
        }
        var report = new AuditReport(records, answeredBy, leader?.Member.Member.Name, watch.Elapsed) { ConfigError = configError };
        ReconcilerTelemetry.RecordAudit(report);
        foreach (var record in records.Where(r => r.Hazards.Count > 0))
        {
            foreach (var hazard in record.Hazards)
            {
                _logger.LogWarning("audit: slot {Slot} on {Member}: {Hazard}: {Message}", record.Slot ?? "-", record.Member, hazard.Name, hazard.Message);
            }
        }
        _logger.LogInformation("audit: {Slots} slot records on {Members} members in {Milliseconds} ms, {Hazards} with hazards",
            records.Count, members.Count, (long)watch.Elapsed.TotalMilliseconds, records.Count(r => r.Hazards.Count > 0));
        return report;
    }

    private SlotAudit JudgeOnLeader(MemberRead leader, SlotRow slot, IReadOnlyList<MemberRead> candidates, PatroniSlotConfig config)
    {
        var protection = SlotReconciler.ProtectionOf(slot.Name, config, slot.Database, slot.Plugin);
        var failoverSlot = slot.Failover == true;
        var guard = protection switch
        {
            SlotProtection.Permanent => SlotGuard.Permanent,
            SlotProtection.Ignored when failoverSlot => SlotGuard.FailoverSlot,
            SlotProtection.Ignored => SlotGuard.IgnoreSlots,
            _ => SlotGuard.None,
        };
        var readyOn = candidates.Where(c => IsReadyCopy(leader, slot, c, failoverSlot)).Select(c => c.Member.Member.Name).ToList();
        var missingOn = candidates.Select(c => c.Member.Member.Name).Except(readyOn).ToList();

        var hazards = new List<Hazard>();
        switch (guard)
        {
            case SlotGuard.None:
                hazards.Add(new Hazard(HazardKind.Unprotected, failoverSlot
                    ? "neither permanent nor in ignore_slots: Patroni (4.0 and older) drops this failover slot as unknown on a permanent-slots change, a restart or a role change, and no new leader has it"
                    : "neither permanent nor in ignore_slots: Patroni drops it on a permanent-slots change, a restart or a role change, and no new leader has it"));
                break;
            case SlotGuard.IgnoreSlots:
                hazards.Add(new Hazard(HazardKind.IgnoredNotCopied,
                    "in ignore_slots, so it survives Patroni on this leader, but nothing copies it: it is lost at any failover"));
                break;
            case SlotGuard.Permanent or SlotGuard.FailoverSlot when missingOn.Count > 0:
                var unreachable = candidates.Where(c => c.Error is not null).Select(c => c.Member.Member.Name).ToHashSet();
                var names = string.Join(", ", missingOn.Select(m => unreachable.Contains(m) ? $"{m} (unreachable)" : m));
                hazards.Add(new Hazard(HazardKind.NoReadyCopy, guard == SlotGuard.FailoverSlot
                    ? $"no synced, persistent copy on {names}: a failover to that member now loses the slot (the synced slot is not yet ready)"
                    : $"no ready copy on {names}: a failover to that member now re-creates it at the current LSN (a gap)"));
                break;
        }
        hazards.AddRange(CommonHazards(slot));
        return Record(leader, slot, guard, hazards, leader.CurrentLsn) with
        {
            ReadyCopies = readyOn.Count,
            FailoverCandidates = candidates.Count,
            ReadyOn = readyOn,
        };
    }

    private SlotAudit JudgeOnStandby(MemberRead standby, SlotRow slot, MemberRead? leader, PatroniSlotConfig config)
    {
        var onLeader = leader?.Slots.FirstOrDefault(s => s.Name == slot.Name && s.Type == "logical");
        var protection = SlotReconciler.ProtectionOf(slot.Name, config, slot.Database, slot.Plugin);
        var guard = protection switch
        {
            SlotProtection.Permanent => SlotGuard.Permanent,
            SlotProtection.Ignored when slot.Synced == true => SlotGuard.FailoverSlot,
            SlotProtection.Ignored => SlotGuard.IgnoreSlots,
            _ => SlotGuard.None,
        };
        var hazards = new List<Hazard>();
        if (slot.Synced == false && protection != SlotProtection.Permanent)
        {
            hazards.Add(new Hazard(HazardKind.StaleStandbySlot, onLeader is null
                ? "a slot with synced = false on a standby: the slotsync worker will not update it; it is stale when this member leads"
                : "a same-name slot with synced = false on a standby: the slotsync worker refuses to overwrite it, so it is stale when this member leads (Patroni PR 3493 drops such slots, not in 4.0)"));
        }
        hazards.AddRange(CommonHazards(slot));
        return Record(standby, slot, guard, hazards, leader?.CurrentLsn);
    }

    private IEnumerable<Hazard> CommonHazards(SlotRow slot)
    {
        if (slot.WalStatus == "lost")
        {
            yield return new Hazard(HazardKind.WalLost, "wal_status lost: the WAL this slot needs was removed; the slot can't be used");
        }
        if (slot.WalStatus == "unreserved")
        {
            yield return new Hazard(HazardKind.WalUnreserved, "wal_status unreserved: it retains more than max_slot_wal_keep_size; the next checkpoint removes its WAL");
        }
        if (slot.InvalidationReason is { } reason)
        {
            yield return new Hazard(HazardKind.Invalidated, $"invalidated ({reason}): the slot can't be used");
        }
        if (_audit.MaxRetainedBytes is { } max && slot.RetainedBytes > max)
        {
            yield return new Hazard(HazardKind.RetainsTooMuch, $"retains {slot.RetainedBytes} B of WAL, more than the {max} B allowed (--max-retained)");
        }
    }

    private static SlotAudit Record(MemberRead member, SlotRow slot, SlotGuard guard, IReadOnlyList<Hazard> hazards, NpgsqlLogSequenceNumber? leaderLsn) => new()
    {
        Member = member.Member.Member.Name,
        Role = member.Member.Member.Role,
        Slot = slot.Name,
        Plugin = slot.Plugin,
        Database = slot.Database,
        ConfirmedFlushLsn = slot.ConfirmedFlushLsn?.ToString(),
        RestartLsn = slot.RestartLsn?.ToString(),
        Active = slot.Active,
        Temporary = slot.Temporary,
        WalStatus = slot.WalStatus,
        SafeWalSize = slot.SafeWalSize,
        RetainedBytes = slot.RetainedBytes,
        LagBytes = leaderLsn is { } lsn && slot.ConfirmedFlushLsn is { } confirmed ? (long)Math.Min(WalGap.Distance(confirmed, lsn), long.MaxValue) : null,
        Failover = slot.Failover,
        Synced = slot.Synced,
        InvalidationReason = slot.InvalidationReason,
        Protection = guard,
        Hazards = hazards,
    };

    /// <summary>
    /// Whether <paramref name="candidate"/> holds a copy of the leader's <paramref name="slot"/> that survives a failover to it.
    /// A failover slot (PostgreSQL 17): the standby's slot is synced, persistent (not temporary) and valid. A Patroni copy of a
    /// permanent slot: the standby has the slot and the leader's physical slot for that member holds a <c>catalog_xmin</c>
    /// covering the logical slot's (Patroni's own readiness rule: "safe to be used after a failover").
    /// </summary>
    private static bool IsReadyCopy(MemberRead leader, SlotRow slot, MemberRead candidate, bool failoverSlot)
    {
        if (candidate.Error is not null)
        {
            return false;
        }
        var copy = candidate.Slots.FirstOrDefault(s => s.Name == slot.Name && s.Type == "logical");
        if (copy is null || copy.WalStatus == "lost" || copy.InvalidationReason is not null)
        {
            return false;
        }
        if (failoverSlot)
        {
            return copy.Synced == true && !copy.Temporary;
        }
        var physical = leader.Slots.FirstOrDefault(s => s.Type == "physical" && s.Name == PhysicalSlotNameOf(candidate.Member.Member.Name));
        if (physical?.CatalogXmin is not { } held)
        {
            return false;
        }
        return slot.CatalogXmin is not { } needed || unchecked((int)(held - needed)) <= 0;
    }

    /// <summary>Patroni's name for a member's physical slot (<c>slot_name_from_member_name</c>).</summary>
    public static string PhysicalSlotNameOf(string member)
    {
        var chars = member.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '_').ToArray();
        var name = new string(chars);
        return name.Length > SlotName.MaxLength ? name[..SlotName.MaxLength] : name;
    }

    private async Task<MemberRead> ReadMemberAsync(ClusterMember member, CancellationToken cancellationToken)
    {
        var (host, port) = _options.AddressMap?.Invoke(member.Member) ?? (member.Member.Host, member.Member.Port);
        if (string.IsNullOrEmpty(host) || port <= 0)
        {
            return new MemberRead(member, [], null, $"Patroni lists no PostgreSQL address for it (state {member.Member.State})");
        }
        try
        {
            await using var connection = new NpgsqlConnection(_options.ConnectionStringFor(host, port, "patroni-model-audit").ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var pg17 = connection.PostgreSqlVersion.Major >= 17;
            NpgsqlLogSequenceNumber current;
            await using (var position = new NpgsqlCommand(
                "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END",
                connection))
            {
                current = await position.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as NpgsqlLogSequenceNumber? ?? default;
            }
            await using var command = new NpgsqlCommand(
                "SELECT slot_name::text, slot_type, plugin::text, database::text, active, temporary, wal_status, safe_wal_size, " +
                "restart_lsn, confirmed_flush_lsn, catalog_xmin::text, " +
                "CASE WHEN restart_lsn IS NULL THEN NULL ELSE pg_catalog.pg_wal_lsn_diff($1::pg_lsn, restart_lsn)::bigint END, " +
                (pg17 ? "failover, synced, invalidation_reason " : "NULL::boolean, NULL::boolean, NULL::text ") +
                "FROM pg_catalog.pg_replication_slots ORDER BY slot_name",
                connection)
            {
                Parameters = { new NpgsqlParameter { Value = current, NpgsqlDbType = NpgsqlDbType.PgLsn } },
            };
            var slots = new List<SlotRow>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                slots.Add(new SlotRow(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetBoolean(4),
                    reader.GetBoolean(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.IsDBNull(7) ? null : reader.GetInt64(7),
                    reader.IsDBNull(8) ? null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(8),
                    reader.IsDBNull(9) ? null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(9),
                    reader.IsDBNull(10) ? null : uint.Parse(reader.GetString(10), System.Globalization.CultureInfo.InvariantCulture),
                    reader.IsDBNull(11) ? null : Math.Max(0, reader.GetInt64(11)),
                    reader.IsDBNull(12) ? null : reader.GetBoolean(12),
                    reader.IsDBNull(13) ? null : reader.GetBoolean(13),
                    reader.IsDBNull(14) ? null : reader.GetString(14)));
            }
            return new MemberRead(member, slots, current, null);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("audit: PostgreSQL of {Member} at {Host}:{Port} could not be read: {Error}", member.Member.Name, host, port, OneLine(e.Message));
            return new MemberRead(member, [], null, $"{host}:{port}: {OneLine(e.Message)}");
        }
    }

    private static List<ClusterMember> MembersOf(JsonElement root)
    {
        var view = PatroniRestEndpoint.ParseCluster(root, "");
        var members = new List<ClusterMember>();
        var list = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("members", out var m) && m.ValueKind == JsonValueKind.Array
            ? m.EnumerateArray().ToList()
            : [];
        for (var i = 0; i < view.Members.Count; i++)
        {
            var noFailover = i < list.Count
                && list[i].TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object
                && tags.TryGetProperty("nofailover", out var flag) && flag.ValueKind == JsonValueKind.True;
            members.Add(new ClusterMember(view.Members[i], noFailover));
        }
        return members;
    }

    private async Task<(JsonElement Root, string AnsweredBy)> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var baseUrl in _options.RestUrls)
        {
            var url = new Uri(baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/"), path);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            try
            {
                using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"{url}: HTTP {(int)response.StatusCode}");
                    continue;
                }
                var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                using var json = JsonDocument.Parse(body);
                return (json.RootElement.Clone(), baseUrl.ToString());
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{url}: no answer within {_options.RequestTimeout.TotalSeconds:0.#} s");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"{url}: {OneLine(e.InnerException?.Message ?? e.Message)}");
            }
            catch (JsonException)
            {
                failures.Add($"{url}: answered, but not with JSON");
            }
        }
        throw new PatroniUnreachableException($"no Patroni REST endpoint answered GET /{path}: {string.Join("; ", failures)}");
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    public void Dispose() => _http.Dispose();

    private sealed record ClusterMember(PatroniMember Member, bool NoFailover);

    private sealed record MemberRead(ClusterMember Member, IReadOnlyList<SlotRow> Slots, NpgsqlLogSequenceNumber? CurrentLsn, string? Error);

    private sealed record SlotRow(
        string Name,
        string Type,
        string? Plugin,
        string? Database,
        bool Active,
        bool Temporary,
        string? WalStatus,
        long? SafeWalSize,
        NpgsqlLogSequenceNumber? RestartLsn,
        NpgsqlLogSequenceNumber? ConfirmedFlushLsn,
        uint? CatalogXmin,
        long? RetainedBytes,
        bool? Failover,
        bool? Synced,
        string? InvalidationReason);
}
