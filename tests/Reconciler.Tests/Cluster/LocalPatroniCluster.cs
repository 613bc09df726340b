using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using PatroniModel.Reconciler.Endpoints;
using Xunit;

namespace PatroniModel.Tests.ReconcilerTests.Cluster;

/// <summary>
/// A real single-member Patroni 3.0.2 cluster on PostgreSQL 15 with one etcd 3.4 (v2 API), started as local processes
/// on free 127.0.0.1 ports, once per test collection (as Patroni's own acceptance tests do). PostgreSQL runs as the
/// <c>postgres</c> user; everything lives in one temporary folder that is removed at dispose. With
/// <see cref="SharedVariable"/> set, one cluster is shared by every test host that runs (LocalPatroniCluster.Shared.cs).
/// </summary>
public sealed partial class LocalPatroniCluster : IAsyncLifetime
{
    public const string Scope = "reconciler";
    public const string Member = "pg1";
    public const string BinDir = "/usr/lib/postgresql/15/bin";
    private const string InstallHint = "apt-get install -y patroni etcd-server python3-etcd postgresql-15";
    private static readonly TimeSpan LeaderTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly SemaphoreSlim _copyGate = new(1, 1);
    private Process? _etcd;
    private Process? _patroni;
    private Process? _leaderless;
    private Uri? _leaderlessUrl;
    private PromotedCopy? _copy;
    private int _slotCounter;

    public string Root { get; private set; } = "";

    /// <summary>
    /// The working directory of every process this fixture starts (etcd, patroni and the initdb it runs, pg_ctl,
    /// pg_basebackup): the fixture's own folder, which the <c>postgres</c> user may enter. Inheriting the test host's
    /// directory fails when the checkout is not readable by <c>postgres</c> (a clone under <c>/root</c> or in a 0700
    /// <c>mktemp -d</c> folder): initdb's post-bootstrap step then never finishes.
    /// </summary>
    public string WorkingDirectory => Root.Length > 0 ? Root : "/";
    public int PostgresPort { get; private set; }
    public int RestPort { get; private set; }
    public int EtcdPort { get; private set; }
    public Uri RestUrl => new($"http://127.0.0.1:{RestPort}/");
    public string PostgresDirectory => Path.Combine(Root, "pg");
    public string DataDirectory => Path.Combine(PostgresDirectory, "data");
    public string PatroniLog => Path.Combine(Root, "patroni.log");
    public string EtcdLog => Path.Combine(Root, "etcd.log");

    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = PostgresPort,
        Username = "postgres",
        Database = "postgres",
        Pooling = false,
        Timeout = 5,
    }.ConnectionString;

    /// <summary>A fixture of its own, or the shared cluster when <see cref="SharedVariable"/> names a folder.</summary>
    public LocalPatroniCluster()
        : this(Environment.GetEnvironmentVariable(SharedVariable) is { Length: > 0 } shared ? Path.GetFullPath(shared) : null)
    {
    }

    /// <param name="shared">The shared cluster's folder, or null for a cluster of this fixture's own.</param>
    internal LocalPatroniCluster(string? shared) => _shared = shared;

    public async Task InitializeAsync()
    {
        CheckPrerequisites();
        if (_shared is not null)
        {
            await InitializeSharedAsync().ConfigureAwait(false);
            return;
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopLeftovers();
        Root = Directory.CreateTempSubdirectory("patroni-model-reconciler-").FullName;
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        try
        {
            await StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
        {
            var problems = await StopProcessesAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            var kept = KeepEvidence();
            var stopped = problems.Count == 0 ? "" : $"\n--- while stopping: {string.Join("; ", problems)} ---";
            throw new InvalidOperationException($"{e.Message}{stopped}\n--- the fixture's folder is kept in {kept} ---", e);
        }
    }

    private async Task StartAsync()
    {
        Directory.CreateDirectory(PostgresDirectory);
        await GiveToPostgresAsync(PostgresDirectory).ConfigureAwait(false);

        EtcdPort = FreePort();
        var etcdPeerPort = FreePort();
        RestPort = FreePort();
        PostgresPort = FreePort();

        _etcd = StartLogged(EtcdLog, "etcd",
            "--name", "etcd1",
            "--data-dir", Path.Combine(Root, "etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{EtcdPort}",
            "--advertise-client-urls", $"http://127.0.0.1:{EtcdPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{etcdPeerPort}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{etcdPeerPort}",
            "--initial-cluster", $"etcd1=http://127.0.0.1:{etcdPeerPort}",
            "--enable-v2=true");
        await WaitForEtcdAsync().ConfigureAwait(false);

        var config = Path.Combine(Root, "patroni.yml");
        await File.WriteAllTextAsync(config, PatroniConfig()).ConfigureAwait(false);
        _patroni = StartLogged(PatroniLog, AsPostgres("patroni", config));
        await WaitForLeaderAsync(LeaderTimeout).ConfigureAwait(false);
        // Leader and writable comes before Patroni's first slot pass, whose reload (scheduled at start) drops every unknown
        // slot it finds: let it happen before the first test's slots exist.
        await SettleSlotsAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops what this fixture started: the promoted copy, Patroni (SIGTERM to patroni itself: it stops PostgreSQL and
    /// releases the leader key), the leaderless member and etcd, each killed when it does not stop within
    /// <paramref name="patience"/>. Returns what did not stop by itself.
    /// </summary>
    private async Task<List<string>> StopProcessesAsync(TimeSpan patience)
    {
        var problems = new List<string>();
        if (_copy is not null)
        {
            await RunAsync(AsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", _copy.DataDirectory, "-m", "immediate", "-w", "stop"), check: false).ConfigureAwait(false);
            _copy = null;
        }
        if (_patroni is not null)
        {
            if (!await StopAsync(_patroni, patience).ConfigureAwait(false))
            {
                problems.Add($"patroni did not stop on SIGTERM within {patience.TotalSeconds:0} s and was killed");
            }
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await RunAsync(AsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", DataDirectory, "-m", "immediate", "-w", "stop"), check: false).ConfigureAwait(false);
            }
            _patroni = null;
        }
        if (_leaderless is not null && !await StopAsync(_leaderless, patience).ConfigureAwait(false))
        {
            problems.Add($"the leaderless patroni did not stop on SIGTERM within {patience.TotalSeconds:0} s and was killed");
        }
        _leaderless = null;
        if (_etcd is not null && !await StopAsync(_etcd, TimeSpan.FromSeconds(10)).ConfigureAwait(false))
        {
            problems.Add("etcd did not stop on SIGTERM within 10 s and was killed");
        }
        _etcd = null;
        return problems;
    }

    /// <summary>
    /// Moves the fixture's folder (configs, logs, data directories) to <c>artifacts/reconciler-fixture/&lt;utc&gt;/</c> under
    /// the repository root (or <c>PATRONI_MODEL_ARTIFACTS</c>), so a failed start leaves its evidence; returns where it went.
    /// </summary>
    private string KeepEvidence()
    {
        var target = Path.Combine(ArtifactsRoot(), "reconciler-fixture", DateTime.UtcNow.ToString("yyyyMMddTHHmmssfffZ", System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            Directory.Move(Root, target);
        }
        catch (IOException)
        {
            // Another file system: keep the logs and configurations, which hold the cause.
            Directory.CreateDirectory(target);
            foreach (var file in Directory.EnumerateFiles(Root).Where(f => f.EndsWith(".log", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
        }
        Root = "";
        return target;
    }

    private static string ArtifactsRoot()
    {
        if (Environment.GetEnvironmentVariable("PATRONI_MODEL_ARTIFACTS") is { Length: > 0 } configured)
        {
            return configured;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PatroniModel.sln")))
            {
                return Path.Combine(dir.FullName, "artifacts");
            }
        }
        return Path.Combine(Path.GetTempPath(), "patroni-model-artifacts");
    }

    public async Task DisposeAsync()
    {
        if (_shared is not null)
        {
            _http.Dispose();
            return;
        }
        var problems = await StopProcessesAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        _http.Dispose();
        if (Root.Length > 0 && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }
    }

    /// <summary>
    /// When the test host exits without disposing the fixture (a crash, a killed run): SIGTERM to the processes this
    /// fixture started (Patroni stops its PostgreSQL), by pid, and a short wait.
    /// </summary>
    private void StopLeftovers()
    {
        if (_copy is not null && File.Exists(Path.Combine(_copy.DataDirectory, "postmaster.pid")))
        {
            var stop = AsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", _copy.DataDirectory, "-m", "immediate", "-w", "stop");
            Run(stop[0], stop[1..]);
        }
        foreach (var process in new[] { _leaderless, _patroni, _etcd })
        {
            if (process is { HasExited: false })
            {
                Posix.Signal(process.Id, Posix.SIGTERM);
                process.WaitForExit(10_000);
            }
        }
    }

    /// <summary>An endpoint on this cluster's REST API, as a consumer would configure it.</summary>
    public PatroniRestEndpoint NewEndpoint(Func<PatroniMember, (string Host, int Port)>? addressMap = null) =>
        new(new PatroniEndpointOptions { RestUrls = [RestUrl], AddressMap = addressMap });

    /// <summary>A slot name no other test uses.</summary>
    public string UniqueSlot(string prefix) => $"{prefix}_{Interlocked.Increment(ref _slotCounter)}_{Environment.ProcessId % 10000}";

    /// <summary>A 127.0.0.1 port nothing listens on.</summary>
    public static int ClosedPort() => FreePort();

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(p is NpgsqlLogSequenceNumber ? new NpgsqlParameter { Value = p, NpgsqlDbType = NpgsqlDbType.PgLsn } : new NpgsqlParameter { Value = p });
        }
        var value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return value is T typed ? typed : throw new InvalidOperationException($"'{sql}' returned {value ?? "null"} ({value?.GetType().Name}), not {typeof(T).Name}");
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(p is NpgsqlLogSequenceNumber ? new NpgsqlParameter { Value = p, NpgsqlDbType = NpgsqlDbType.PgLsn } : new NpgsqlParameter { Value = p });
        }
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>The slot's <c>confirmed_flush_lsn</c> as PostgreSQL reports it, or null when the slot does not exist.</summary>
    public async Task<NpgsqlLogSequenceNumber?> ConfirmedFlushAsync(string slot)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1::name", connection)
        {
            Parameters = { new NpgsqlParameter { Value = slot, NpgsqlDbType = NpgsqlDbType.Text } },
        };
        var value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return value is NpgsqlLogSequenceNumber lsn ? lsn : null;
    }

    public async Task<NpgsqlLogSequenceNumber> CurrentWalLsnAsync() =>
        await ScalarAsync<NpgsqlLogSequenceNumber>("SELECT pg_current_wal_lsn()").ConfigureAwait(false);

    /// <summary>Moves WAL: a 1 kB logical message, then a segment switch. Returns the WAL position after.</summary>
    public async Task<NpgsqlLogSequenceNumber> MoveWalAsync()
    {
        await ExecuteAsync("SELECT pg_logical_emit_message(false, 'patroni-model', repeat('x', 1024))").ConfigureAwait(false);
        await ExecuteAsync("SELECT pg_switch_wal()").ConfigureAwait(false);
        return await CurrentWalLsnAsync().ConfigureAwait(false);
    }

    /// <summary>Drops the slot if it exists (the "loss" of a slot, or a test's cleanup).</summary>
    public Task DropSlotAsync(string slot) =>
        ExecuteAsync("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1::name", slot);

    /// <summary>
    /// Drops the slot, retrying while a walsender or Patroni briefly holds it (SQLSTATE 55006), for up to 10 s.
    /// </summary>
    public async Task DropSlotWhenInactiveAsync(string slot)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await DropSlotAsync(slot).ConfigureAwait(false);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    /// <summary><c>PATCH /config</c> with a JSON body (Patroni merges it into the dynamic configuration; null deletes a key).</summary>
    public async Task PatchConfigAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PatchAsync(new Uri(RestUrl, "config"), content).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PATCH /config {json} answered HTTP {(int)response.StatusCode}: {body}");
        }
    }

    /// <summary><c>POST /restart</c>: Patroni restarts PostgreSQL; waits until the member is leader and writable again.</summary>
    public async Task RestartPostgresAsync()
    {
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri(RestUrl, "restart"), content).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /restart answered HTTP {(int)response.StatusCode}: {body}");
        }
        await WaitForLeaderAsync(LeaderTimeout).ConfigureAwait(false);
    }

    /// <summary>Polls <paramref name="condition"/> until true; on timeout fails with what it waited for, what it saw and Patroni's log.</summary>
    public async Task WaitUntilAsync(string what, Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>>? seen = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await condition().ConfigureAwait(false))
            {
                return;
            }
            if (watch.Elapsed > timeout)
            {
                var saw = seen is null ? "" : $"; saw: {await seen().ConfigureAwait(false)}";
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}{saw}\n--- patroni log (tail) ---\n{LogTail(PatroniLog, 30)}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A second, real PostgreSQL made from this leader (pg_basebackup, started as a standby, then promoted): it runs on
    /// timeline 2 and its history file records where timeline 1 ended. Used where the single Patroni member can't give a
    /// second timeline. Started once, on first use; stopped at dispose.
    /// </summary>
    public async Task<PromotedCopy> PromotedCopyAsync()
    {
        await _copyGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_copy is not null)
            {
                return _copy;
            }
            if (_shared is not null)
            {
                return _copy = await SharedCopyAsync().ConfigureAwait(false);
            }
            return _copy = await StartPromotedCopyAsync().ConfigureAwait(false);
        }
        finally
        {
            _copyGate.Release();
        }
    }

    /// <summary>
    /// The REST URL of a second, real Patroni member in its own scope on the same etcd, tagged <c>nofailover</c>: it may
    /// never become leader, so it never bootstraps, and its <c>GET /cluster</c> lists a member but no leader
    /// ("waiting for leader to bootstrap"); its <c>GET /config</c> answers HTTP 502. Started once, on first use.
    /// </summary>
    public async Task<Uri> LeaderlessRestUrlAsync()
    {
        await _copyGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_leaderlessUrl is not null)
            {
                return _leaderlessUrl;
            }
            if (_shared is not null)
            {
                return _leaderlessUrl = await SharedLeaderlessAsync().ConfigureAwait(false);
            }
            return _leaderlessUrl = await StartLeaderlessAsync().ConfigureAwait(false);
        }
        finally
        {
            _copyGate.Release();
        }
    }

    private async Task<PromotedCopy> StartPromotedCopyAsync()
    {
        var directory = Path.Combine(Root, "copy");
        Directory.CreateDirectory(directory);
        await GiveToPostgresAsync(directory).ConfigureAwait(false);
        var data = Path.Combine(directory, "data");
        var port = FreePort();
        await RunAsync(AsPostgres(Path.Combine(BinDir, "pg_basebackup"), "-h", "127.0.0.1", "-p", PostgresPort.ToString(),
            "-U", "postgres", "-D", data, "-X", "stream", "-R", "-c", "fast")).ConfigureAwait(false);
        await RunAsync(AsPostgres(Path.Combine(BinDir, "pg_ctl"), "-D", data, "-l", Path.Combine(directory, "postgres.log"), "-w", "-t", "30",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={directory} " +
                  $"-c hba_file={data}/pg_hba.conf -c ident_file={data}/pg_ident.conf -c cluster_name=copy",
            "start")).ConfigureAwait(false);
        _copy = new PromotedCopy(data, port);
        var copy = new NpgsqlConnectionStringBuilder(ConnectionString) { Port = port }.ConnectionString;
        await using (var connection = new NpgsqlConnection(copy))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var promote = new NpgsqlCommand("SELECT pg_promote(true, 30)", connection);
            if (await promote.ExecuteScalarAsync().ConfigureAwait(false) is not true)
            {
                throw new InvalidOperationException($"pg_promote() on the copy did not finish within 30 s; log: {LogTail(Path.Combine(directory, "postgres.log"), 20)}");
            }
        }
        return _copy;
    }

    private async Task<Uri> StartLeaderlessAsync()
    {
        var directory = Path.Combine(Root, "leaderless");
        Directory.CreateDirectory(directory);
        await GiveToPostgresAsync(directory).ConfigureAwait(false);
        var restPort = FreePort();
        var config = Path.Combine(Root, "leaderless.yml");
        await File.WriteAllTextAsync(config, $"""
            scope: leaderless
            name: pg9
            restapi:
              listen: 127.0.0.1:{restPort}
              connect_address: 127.0.0.1:{restPort}
            etcd:
              hosts: 127.0.0.1:{EtcdPort}
            tags:
              nofailover: true
            postgresql:
              listen: 127.0.0.1:{FreePort()}
              connect_address: 127.0.0.1:{FreePort()}
              data_dir: {Path.Combine(directory, "data")}
              bin_dir: {BinDir}
              pgpass: {Path.Combine(directory, "pgpass")}
              authentication:
                superuser:
                  username: postgres
                replication:
                  username: postgres
            """).ConfigureAwait(false);
        var log = Path.Combine(Root, "leaderless.log");
        _leaderless = StartLogged(log, AsPostgres("patroni", config));
        var url = new Uri($"http://127.0.0.1:{restPort}/");
        await WaitUntilAsync("the leaderless patroni to list itself in GET /cluster", async () =>
        {
            try
            {
                return (await _http.GetStringAsync(new Uri(url, "cluster")).ConfigureAwait(false)).Contains("\"pg9\"", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), () => Task.FromResult(LogTail(log, 20))).ConfigureAwait(false);
        return url;
    }

    public async Task<T> ScalarOnAsync<T>(int port, string sql, params object[] parameters)
    {
        var cs = new NpgsqlConnectionStringBuilder(ConnectionString) { Port = port }.ConnectionString;
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(p is NpgsqlLogSequenceNumber ? new NpgsqlParameter { Value = p, NpgsqlDbType = NpgsqlDbType.PgLsn } : new NpgsqlParameter { Value = p });
        }
        var value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return value is T typed ? typed : throw new InvalidOperationException($"'{sql}' returned {value ?? "null"}, not {typeof(T).Name}");
    }

    public async Task<string> ClusterAnswerAsync()
    {
        try
        {
            return await _http.GetStringAsync(new Uri(RestUrl, "cluster")).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"GET /cluster failed: {e.Message}";
        }
    }

    private async Task WaitForLeaderAsync(TimeSpan timeout)
    {
        var last = "nothing yet";
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_patroni is { HasExited: true })
            {
                throw new InvalidOperationException(
                    $"patroni exited with code {_patroni.ExitCode} before becoming leader\n{LogHeadAndTail(PatroniLog)}");
            }
            last = await ClusterAnswerAsync().ConfigureAwait(false);
            if (last.Contains("\"role\": \"leader\"", StringComparison.Ordinal) && last.Contains("\"state\": \"running\"", StringComparison.Ordinal)
                && await IsWritableAsync().ConfigureAwait(false))
            {
                return;
            }
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"waited {timeout.TotalSeconds:0} s for {Member} to be a writable leader; last GET /cluster: {last}\n{LogHeadAndTail(PatroniLog)}");
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private async Task<bool> IsWritableAsync()
    {
        try
        {
            return await ScalarAsync<bool>("SELECT NOT pg_is_in_recovery()").ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or SocketException)
        {
            return false;
        }
    }

    private async Task WaitForEtcdAsync()
    {
        var watch = Stopwatch.StartNew();
        var last = "";
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_etcd is { HasExited: true })
            {
                break;
            }
            try
            {
                last = await _http.GetStringAsync($"http://127.0.0.1:{EtcdPort}/health").ConfigureAwait(false);
                if (last.Contains("true", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        throw new TimeoutException($"etcd on 127.0.0.1:{EtcdPort} not healthy after 20 s (last: {last})\n--- etcd log (tail) ---\n{LogTail(EtcdLog, 30)}");
    }

    private string PatroniConfig() => $"""
        scope: {Scope}
        name: {Member}
        restapi:
          listen: 127.0.0.1:{RestPort}
          connect_address: 127.0.0.1:{RestPort}
        etcd:
          hosts: 127.0.0.1:{EtcdPort}
        bootstrap:
          dcs:
            ttl: 10
            loop_wait: 1
            retry_timeout: 4
            postgresql:
              use_pg_rewind: false
              use_slots: true
              parameters:
                wal_level: logical
                max_replication_slots: 10
                max_wal_senders: 10
          initdb:
            - encoding: UTF8
          pg_hba:
            - local all all trust
            - host all all 127.0.0.1/32 trust
            - host replication all 127.0.0.1/32 trust
        postgresql:
          listen: 127.0.0.1:{PostgresPort}
          connect_address: 127.0.0.1:{PostgresPort}
          data_dir: {DataDirectory}
          bin_dir: {BinDir}
          pgpass: {Path.Combine(PostgresDirectory, "pgpass")}
          authentication:
            superuser:
              username: postgres
            replication:
              username: postgres
          parameters:
            unix_socket_directories: {PostgresDirectory}
            max_wal_size: 256MB
        """;

    private static void CheckPrerequisites()
    {
        var missing = new List<string>();
        if (FindOnPath("patroni") is null)
        {
            missing.Add("patroni");
        }
        if (FindOnPath("etcd") is null)
        {
            missing.Add("etcd");
        }
        if (!File.Exists(Path.Combine(BinDir, "postgres")) || !File.Exists(Path.Combine(BinDir, "pg_basebackup")))
        {
            missing.Add($"PostgreSQL 15 ({BinDir})");
        }
        if (!Directory.Exists("/usr/lib/python3/dist-packages/etcd") && Run("python3", "-c", "import etcd") != 0)
        {
            missing.Add("python3-etcd");
        }
        if (Posix.IsRoot && (FindOnPath("setpriv") is null || Run("id", "-u", "postgres") != 0))
        {
            missing.Add("the postgres user and setpriv (PostgreSQL refuses to run as root)");
        }
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"missing {string.Join(", ", missing)}: run `{InstallHint}`");
        }
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Append("/usr/sbin").Append("/usr/bin")
        .Select(dir => Path.Combine(dir, program))
        .FirstOrDefault(File.Exists);

    private static int Run(string program, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
            foreach (var a in arguments)
            {
                start.ArgumentList.Add(a);
            }
            using var process = Process.Start(start)!;
            process.WaitForExit(10_000);
            return process.HasExited ? process.ExitCode : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    /// <summary>The command line that runs <paramref name="program"/> as the postgres user (directly when not root).</summary>
    private static string[] AsPostgres(string program, params string[] arguments) =>
        Posix.IsRoot
            ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", program, .. arguments]
            : [program, .. arguments];

    private async Task GiveToPostgresAsync(string directory)
    {
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Posix.IsRoot)
        {
            await RunAsync(["chown", "postgres:postgres", directory]).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(string[] commandLine, bool check = true)
    {
        var start = new ProcessStartInfo(commandLine[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = WorkingDirectory };
        foreach (var a in commandLine.Skip(1))
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"`{string.Join(' ', commandLine)}` exited with {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()} {(await stdout.ConfigureAwait(false)).Trim()}");
        }
    }

    /// <summary>
    /// Starts a long-running process with stdout and stderr appended to <paramref name="log"/>; its pid is the program's own (exec).
    /// A shared cluster's processes are detached (setsid --fork: they outlive the test host) and write their pid to
    /// <c><paramref name="log"/>.pid</c>; then there is no process to return.
    /// </summary>
    private Process? StartLogged(string log, params string[] commandLine)
    {
        var start = new ProcessStartInfo(_shared is null ? "/bin/sh" : "setsid") { UseShellExecute = false, WorkingDirectory = WorkingDirectory };
        if (_shared is not null)
        {
            start.ArgumentList.Add("--fork");
            start.ArgumentList.Add("/bin/sh");
        }
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("echo $$ >\"$PATRONI_MODEL_LOG.pid\"; exec \"$0\" \"$@\" >>\"$PATRONI_MODEL_LOG\" 2>&1 </dev/null");
        foreach (var a in commandLine)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["PATRONI_MODEL_LOG"] = log;
        start.Environment["HOME"] = Path.GetDirectoryName(log)!;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {commandLine[0]}");
        if (_shared is null)
        {
            return process;
        }
        using (process)
        {
            process.WaitForExit();
        }
        return null;
    }

    private static async Task<bool> StopAsync(Process process, TimeSpan timeout)
    {
        if (process.HasExited)
        {
            return true;
        }
        Posix.Signal(process.Id, Posix.SIGTERM);
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            Posix.Signal(process.Id, Posix.SIGKILL);
            await process.WaitForExitAsync().ConfigureAwait(false);
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first and the last lines of a log: a start's cause is often at the top (initdb's errors), its end at the bottom.</summary>
    private static string LogHeadAndTail(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return lines.Length <= 60
                ? $"--- {Path.GetFileName(path)} ---\n{string.Join('\n', lines)}"
                : $"--- {Path.GetFileName(path)} (head) ---\n{string.Join('\n', lines.Take(20))}\n--- ({lines.Length - 60} lines) ---\n--- {Path.GetFileName(path)} (tail) ---\n{string.Join('\n', lines.TakeLast(40))}";
        }
        catch (IOException e)
        {
            return $"(no log: {e.Message})";
        }
    }

    private static string LogTail(string path, int lines)
    {
        try
        {
            return string.Join('\n', File.ReadLines(path).TakeLast(lines));
        }
        catch (IOException e)
        {
            return $"(no log: {e.Message})";
        }
    }
}

/// <summary>A promoted copy of the leader on timeline 2: its data directory and 127.0.0.1 port.</summary>
public sealed record PromotedCopy(string DataDirectory, int Port);

[CollectionDefinition(Name)]
public sealed class PatroniClusterCollection : ICollectionFixture<LocalPatroniCluster>
{
    public const string Name = "local patroni cluster";
}
