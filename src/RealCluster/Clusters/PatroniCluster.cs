using System.Collections.Immutable;
using System.Diagnostics;
using Docker.DotNet;
using Npgsql;
using PatroniModel.Consumer.Positions;
using PatroniModel.RealCluster.Configuration;
using PatroniModel.RealCluster.Docker;
using PatroniModel.RealCluster.Rest;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>
/// A real Patroni cluster in Docker: one etcd and N Patroni members (PostgreSQL 15, Patroni 3.0.2) on a private bridge
/// network, every resource labelled with the run id. Steps of the fault vocabulary act on it through Docker (kill,
/// pause, disconnect), Patroni's REST API (switchover, failover, restart, config) and Npgsql (client rows, slots,
/// the consumer); observations have the model's shape. Build it with <see cref="PatroniClusterBuilder"/>.
/// Dispose removes every container and the network, also after a failed test.
/// </summary>
public sealed partial class PatroniCluster : ICluster, ISyncStandbySource
{
    private readonly DockerClient _docker;
    private readonly HttpClient _http;
    private readonly PatroniRestClient _rest;
    private readonly string _networkId;
    private readonly string _password;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<StepResult> _history = [];
    private readonly List<long> _acknowledged = [];
    private readonly ConsumerLedger _consumers = new();
    private readonly Docker.IContainerOperations _containers;
    private long _nextRowId = 1;
    private int _failedWrites;
    private int _disposed;

    internal PatroniCluster(
        DockerClient docker, ClusterConfig config, string runId, string networkId, string password,
        ClusterMember etcd, IReadOnlyList<ClusterMember> members, Action<string>? log)
    {
        _docker = docker;
        Config = config;
        RunId = runId;
        _networkId = networkId;
        _containers = new DockerContainerOperations(docker, networkId);
        _password = password;
        Etcd = etcd;
        Members = members;
        Log = log;
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _rest = new PatroniRestClient(_http);
    }

    /// <inheritdoc />
    public ClusterConfig Config { get; private set; }

    /// <summary>The run id every container and network of this cluster is labelled with.</summary>
    public string RunId { get; }

    /// <summary>The Spilo image the members run on (the Spilo flavor), or null: the Debian-built image.</summary>
    public string? SpiloImage { get; init; }

    /// <summary>The members' PostgreSQL unix socket directory (for <c>psql -h</c> through <see cref="ExecAsync"/>).</summary>
    public string SocketDirectory => SpiloImage is null ? PatroniYaml.SocketDirectory : SpiloEnvironment.SocketDirectory;

    /// <summary>The Patroni members, <c>pg1..pgN</c>.</summary>
    public IReadOnlyList<ClusterMember> Members { get; }

    /// <summary>The etcd container.</summary>
    public ClusterMember Etcd { get; }

    /// <summary>Where progress lines go (an xunit ITestOutputHelper in the E2E tests).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>The steps applied so far and how they went, one line each.</summary>
    public IReadOnlyList<StepResult> History => _history.ToArray();

    /// <summary>Row ids whose commit the client saw acknowledged.</summary>
    public ImmutableArray<long> AcknowledgedRows => [.. _acknowledged];

    /// <summary>Client writes that got no acknowledgement.</summary>
    public int FailedWrites => _failedWrites;

    /// <summary>The consumer's persisted positions, by slot.</summary>
    public IReadOnlyDictionary<string, ConsumerPosition> Consumers => _consumers.Positions.ToDictionary(p => p.Slot, StringComparer.Ordinal);

    /// <summary>The member called <paramref name="name"/>.</summary>
    public ClusterMember Member(string name) =>
        Members.FirstOrDefault(m => m.Name == name) ?? throw new ArgumentException($"no member '{name}' (members: {string.Join(", ", Members.Select(m => m.Name))})", nameof(name));

    /// <summary>A connection string to <paramref name="member"/>'s PostgreSQL by its container address.</summary>
    public string ConnectionString(ClusterMember member, int commandTimeoutSeconds = 10) => new NpgsqlConnectionStringBuilder
    {
        Host = member.Address.ToString(),
        Port = PatroniYaml.PostgresPort,
        Username = "postgres",
        Password = _password,
        Database = SlotDefaults.Database,
        Timeout = 3,
        CommandTimeout = commandTimeoutSeconds,
        Pooling = false,
        IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>The superuser password of this run (random per run).</summary>
    public string Password => _password;

    internal void Say(string line) => Log?.Invoke($"[{_clock.Elapsed.TotalSeconds,7:F1}s] {line}");

    /// <summary>Removes every container and the network of this run. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var removed = await DockerEngine.RemoveResourcesAsync(_docker, RunId, timeout.Token).ConfigureAwait(false);
            Say($"removed {removed.Count} resources of run {RunId}");
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or OperationCanceledException)
        {
            Say($"could not remove every resource of run {RunId} ({e.GetBaseException().Message}); the next run removes them");
        }
        finally
        {
            DockerEngine.LiveRuns.TryRemove(RunId, out _);
            _http.Dispose();
            _docker.Dispose();
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(ClusterMember member, CancellationToken cancellationToken, int commandTimeoutSeconds = 10)
    {
        var connection = new NpgsqlConnection(ConnectionString(member, commandTimeoutSeconds));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(4));
            await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
