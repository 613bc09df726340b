using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Docker.DotNet;
using Docker.DotNet.Models;
using Npgsql;
using PatroniModel.RealCluster.Configuration;
using PatroniModel.RealCluster.Docker;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>
/// Builds a <see cref="PatroniCluster"/>: immutable, every <c>With...</c> returns a new builder.
/// <code>await using var cluster = await new PatroniClusterBuilder().WithMembers(3).WithTtl(6).WithLoopWait(1).WithRetryTimeout(2).BuildAsync();</code>
/// </summary>
public sealed record PatroniClusterBuilder
{

    /// <summary>The cluster's configuration (members, ttl, loop_wait, retry_timeout, slots, DCS flavor).</summary>
    public ClusterConfig Config { get; init; } = ClusterConfig.Default;

    /// <summary>
    /// The Patroni image (built by scripts/build-image.sh); null: the one for the configuration's PostgreSQL, Debian bookworm's
    /// 15 with Patroni 3.0.2 (<see cref="DockerEngine.DefaultImage"/>) or Debian trixie's 17 with Patroni 4.0.7 (<see cref="DockerEngine.Pg17Image"/>).
    /// </summary>
    public string? Image { get; init; }

    /// <summary>The image etcd and (without <see cref="SpiloImage"/>) the members run on.</summary>
    public string EffectiveImage => Image ?? (Config.PostgresMajor >= 17 ? DockerEngine.Pg17Image : DockerEngine.DefaultImage);

    /// <summary>
    /// The Spilo image the members run on instead of <see cref="Image"/> (the optional Spilo flavor): by default what
    /// <c>PATRONI_MODEL_SPILO_IMAGE</c> names, else null (the Debian-built image). etcd always runs on <see cref="Image"/>.
    /// Pulled when the engine lacks it; when it can't be pulled the build fails with one line saying so.
    /// </summary>
    public string? SpiloImage { get; init; } = DockerEngine.SpiloImageFromEnvironment;

    /// <summary>How long pulling <see cref="SpiloImage"/> may take.</summary>
    public TimeSpan SpiloPullTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How long bring-up may take: a leader writable and every replica streaming.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Where progress lines go.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>A builder for <paramref name="config"/>.</summary>
    public static PatroniClusterBuilder From(ClusterConfig config) => new() { Config = config };

    public PatroniClusterBuilder WithMembers(int members) => this with { Config = Config with { Members = members } };

    public PatroniClusterBuilder WithTtl(int seconds) => this with { Config = Config with { Ttl = seconds } };

    public PatroniClusterBuilder WithLoopWait(int seconds) => this with { Config = Config with { LoopWait = seconds } };

    public PatroniClusterBuilder WithRetryTimeout(int seconds) => this with { Config = Config with { RetryTimeout = seconds } };

    public PatroniClusterBuilder WithMaximumLagOnFailover(long bytes) => this with { Config = Config with { MaximumLagOnFailover = bytes } };

    public PatroniClusterBuilder WithSynchronousMode(SynchronousMode mode) => this with { Config = Config with { SynchronousMode = mode } };

    public PatroniClusterBuilder WithPermanentSlots(params string[] slots) => this with { Config = Config with { PermanentSlots = [.. slots] } };

    public PatroniClusterBuilder WithIgnoreSlots(params string[] slots) => this with { Config = Config with { IgnoreSlots = [.. slots] } };

    /// <summary>
    /// Patroni's DCS section: <see cref="DcsFlavor.Etcd"/> (v2 API, the default) or <see cref="DcsFlavor.Etcd3"/>, which on
    /// Patroni 3.0.2 has the leader-key bug the README's "A real Patroni bug, found on purpose" shows (fixed upstream by Patroni PR 2689).
    /// </summary>
    public PatroniClusterBuilder WithDcs(DcsFlavor dcs) => this with { Config = Config with { Dcs = dcs } };

    public PatroniClusterBuilder WithImage(string image) => this with { Image = image };

    /// <summary>Runs the members on the Spilo image <paramref name="image"/>; null or empty: on the Debian-built image.</summary>
    public PatroniClusterBuilder WithSpiloImage(string? image) => this with { SpiloImage = string.IsNullOrWhiteSpace(image) ? null : image.Trim() };

    public PatroniClusterBuilder WithStartupTimeout(TimeSpan timeout) => this with { StartupTimeout = timeout };

    public PatroniClusterBuilder WithLog(Action<string>? log) => this with { Log = log };

    /// <summary>
    /// Removes the leftovers of earlier runs (by the project label), creates the network, etcd and the members, starts the
    /// first member alone until it is a writable leader (so a fresh cluster always starts with pg1 as leader, as the model
    /// does, instead of whichever member wins the bootstrap race), then the others, waits until every replica streams,
    /// and creates the client table. On failure everything of
    /// this run is removed again and the containers' logs are left in <c>artifacts/e2e/bring-up/&lt;utc&gt;/</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The configuration has problems (<see cref="ClusterConfig.Problems"/>).</exception>
    /// <exception cref="DockerEngineUnavailableException">No Docker engine answers, or the image is not built.</exception>
    public async Task<PatroniCluster> BuildAsync(CancellationToken cancellationToken = default)
    {
        var problems = Config.Problems().ToList();
        if (Config.PostgresMajor != ClusterConfig.Default.PostgresMajor && SpiloImage is not null)
        {
            problems.Add($"the Spilo flavor runs postgres {ClusterConfig.Default.PostgresMajor} sequences; unset PATRONI_MODEL_SPILO_IMAGE for postgres {Config.PostgresMajor}");
        }
        if (Config.InitialWal is { } start)
        {
            problems.Add($"initial_wal {start} is model-only: a real cluster's WAL starts where initdb leaves it");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid cluster configuration: " + string.Join("; ", problems));
        }
        var watch = Stopwatch.StartNew();
        var docker = await DockerEngine.ConnectAsync(cancellationToken).ConfigureAwait(false);
        PatroniCluster? cluster = null;
        var runId = $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        try
        {
            var image = EffectiveImage;
            await DockerEngine.EnsureImageAsync(docker, image, cancellationToken).ConfigureAwait(false);
            if (SpiloImage is not null)
            {
                await DockerEngine.EnsureSpiloImageAsync(docker, SpiloImage, Log, SpiloPullTimeout, cancellationToken).ConfigureAwait(false);
            }
            var leftovers = await DockerEngine.RemoveResourcesAsync(docker, null, cancellationToken).ConfigureAwait(false);
            if (leftovers.Count > 0)
            {
                Log?.Invoke($"removed leftovers of earlier runs: {string.Join(", ", leftovers)}");
            }
            DockerEngine.LiveRuns[runId] = 0;
            var (networkId, subnetBase) = await CreateNetworkAsync(docker, runId, cancellationToken).ConfigureAwait(false);
            var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var etcd = await CreateContainerAsync(docker, runId, networkId, "etcd1", AddressAt(subnetBase, 10), image, ["etcd"], [], cancellationToken).ConfigureAwait(false);
            await docker.Containers.StartContainerAsync(etcd.ContainerId, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
            var scope = $"pm{runId[^6..]}";
            var members = await Task.WhenAll(Config.MemberNames.Select((name, i) => SpiloImage is null
                ? CreateContainerAsync(docker, runId, networkId, name, AddressAt(subnetBase, 11 + i), image, ["patroni"],
                    [$"PATRONI_CONFIG_YAML={PatroniYaml.Render(Config, scope, name, password)}"], cancellationToken)
                : CreateContainerAsync(docker, runId, networkId, name, AddressAt(subnetBase, 11 + i), SpiloImage, null,
                    SpiloEnvironment.Render(Config, scope, password), cancellationToken))).ConfigureAwait(false);
            var others = members.Skip(1).ToList();
            others.ForEach(m => m.IsStopped = true);
            cluster = new PatroniCluster(docker, Config, runId, networkId, password, etcd, members, Log) { SpiloImage = SpiloImage };
            cluster.Say($"run {runId}: members on {SpiloImage ?? image}{(SpiloImage is null ? "" : " (Spilo flavor)")}; etcd {etcd.Address}, {string.Join(", ", members.Select(m => $"{m.Name} {m.Address}"))}; dcs {(Config.Dcs == DcsFlavor.Etcd3 ? "etcd3" : "etcd (v2)")}, ttl {Config.Ttl}, loop_wait {Config.LoopWait}, retry_timeout {Config.RetryTimeout}{(Config.Timings == new PatroniTimings(Config.Ttl, Config.LoopWait, Config.RetryTimeout) ? "" : $" (Patroni runs ttl {Config.Timings.Ttl}, loop_wait {Config.Timings.LoopWait}, retry_timeout {Config.Timings.RetryTimeout})")}");
            await docker.Containers.StartContainerAsync(members[0].ContainerId, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
            await cluster.WaitForLeaderAsync(StartupTimeout, cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(others.Select(m => docker.Containers.StartContainerAsync(m.ContainerId, new ContainerStartParameters(), cancellationToken))).ConfigureAwait(false);
            others.ForEach(m => m.IsStopped = false);
            var leader = await cluster.SettleAsync(StartupTimeout, cancellationToken).ConfigureAwait(false);
            await CreateClientTableAsync(cluster, leader, cancellationToken).ConfigureAwait(false);
            await cluster.SettleAsync(StartupTimeout, cancellationToken).ConfigureAwait(false);
            cluster.Say($"bring-up took {watch.Elapsed.TotalSeconds:F1}s (leader {leader.Name})");
            return cluster;
        }
        catch (Exception e)
        {
            if (cluster is not null)
            {
                try
                {
                    await cluster.SaveEvidenceAsync("bring-up", e, CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    await cluster.DisposeAsync().ConfigureAwait(false);
                }
            }
            else
            {
                try
                {
                    await DockerEngine.RemoveResourcesAsync(docker, runId, CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    DockerEngine.LiveRuns.TryRemove(runId, out _);
                    docker.Dispose();
                }
            }
            throw;
        }
    }

    private static async Task CreateClientTableAsync(PatroniCluster cluster, ClusterMember leader, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString(leader));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {RowDigest.Table} (id bigint PRIMARY KEY, payload text NOT NULL)", connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A bridge network with a subnet of its own. Docker only lets a container keep a fixed address on a network with a
    /// user-configured subnet, so the engine picks a free subnet first and the network is made again with it explicitly.
    /// </summary>
    private static async Task<(string Id, IPAddress SubnetBase)> CreateNetworkAsync(DockerClient docker, string runId, CancellationToken cancellationToken)
    {
        var name = $"pm-{runId}";
        var probe = await docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = name,
            Driver = "bridge",
            Labels = ResourceLabels.For(runId),
        }, cancellationToken).ConfigureAwait(false);
        var inspected = await docker.Networks.InspectNetworkAsync(probe.ID, cancellationToken).ConfigureAwait(false);
        var config = inspected.IPAM.Config.First();
        await docker.Networks.DeleteNetworkAsync(probe.ID, cancellationToken).ConfigureAwait(false);
        var created = await docker.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = name,
            Driver = "bridge",
            Labels = ResourceLabels.For(runId),
            IPAM = new IPAM { Config = [new IPAMConfig { Subnet = config.Subnet, Gateway = config.Gateway }] },
        }, cancellationToken).ConfigureAwait(false);
        return (created.ID, IPAddress.Parse(config.Subnet.Split('/')[0]));
    }

    private static IPAddress AddressAt(IPAddress subnetBase, int offset)
    {
        var bytes = subnetBase.GetAddressBytes();
        var value = ((uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3]) + (uint)offset;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }

    private static async Task<ClusterMember> CreateContainerAsync(
        DockerClient docker, string runId, string networkId, string name, IPAddress address, string image, IList<string>? command,
        IList<string> env, CancellationToken cancellationToken)
    {
        var containerName = $"pm-{runId}-{name}";
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = containerName,
            Hostname = name,
            Image = image,
            Cmd = command,
            Env = env,
            Labels = ResourceLabels.For(runId, name),
            HostConfig = new HostConfig
            {
                NetworkMode = networkId,
                DNSOptions = ["ndots:1"],
                ShmSize = 128L * 1024 * 1024,
            },
            NetworkingConfig = new NetworkingConfig
            {
                EndpointsConfig = new Dictionary<string, EndpointSettings> { [networkId] = DockerContainerOperations.EndpointSettingsFor(name, address) },
            },
        }, cancellationToken).ConfigureAwait(false);
        return new ClusterMember(name, created.ID, containerName, address);
    }
}
