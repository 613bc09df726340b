using Docker.DotNet;
using Docker.DotNet.Models;

namespace PatroniModel.RealCluster.Docker;

/// <summary>
/// The Docker engine the real cluster runs on: <c>DOCKER_HOST</c> when set, else <c>/var/run/docker.sock</c>.
/// Docker.DotNet 3.125 sends unversioned API paths, so it talks to Debian's engine (20.10, API 1.41) and to newer ones.
/// </summary>
public static class DockerEngine
{
    /// <summary>The runs of this process whose clusters are not disposed yet: never removed as leftovers.</summary>
    internal static System.Collections.Concurrent.ConcurrentDictionary<string, byte> LiveRuns { get; } = new(StringComparer.Ordinal);

    /// <summary>The image scripts/build-image.sh builds; <c>PATRONI_MODEL_IMAGE</c> overrides it.</summary>
    public static string DefaultImage =>
        Environment.GetEnvironmentVariable("PATRONI_MODEL_IMAGE") is { Length: > 0 } image ? image : "patroni-model/patroni:latest";

    /// <summary>Connects and pings the engine; throws <see cref="DockerEngineUnavailableException"/> with one line when none answers.</summary>
    public static async Task<DockerClient> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        var uri = new Uri(string.IsNullOrEmpty(host) ? "unix:///var/run/docker.sock" : host);
        var client = new DockerClientConfiguration(uri, defaultTimeout: TimeSpan.FromMinutes(2)).CreateClient();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await client.System.PingAsync(timeout.Token).ConfigureAwait(false);
            return client;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new DockerEngineUnavailableException(
                $"no Docker engine answers at {uri} ({e.GetBaseException().Message}); start one with `sudo scripts/docker-engine.sh` (./test.sh as root does it)", e);
        }
    }

    /// <summary>Checks that <paramref name="image"/> exists locally; throws <see cref="DockerEngineUnavailableException"/> saying how to build it.</summary>
    public static async Task EnsureImageAsync(DockerClient client, string image, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerImageNotFoundException e)
        {
            throw new DockerEngineUnavailableException(
                $"the Patroni image {image} is not built; build it with `sudo scripts/build-image.sh` (./test.sh as root does it)", e);
        }
    }

    /// <summary>
    /// Removes every container, network and volume carrying the project label (leftovers of earlier runs, except those
    /// of another test process still running), or those of one run when <paramref name="runId"/> is given. Returns what was removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveResourcesAsync(DockerClient client, string? runId = null, CancellationToken cancellationToken = default)
    {
        var filter = runId is null ? ResourceLabels.ProjectFilter() : ResourceLabels.RunFilter(runId);
        var removed = new List<string>();
        bool Keep(IDictionary<string, string>? labels) =>
            runId is null
            && (ResourceLabels.OwnedByAnotherLiveProcess(labels)
                || (labels is not null && labels.TryGetValue(ResourceLabels.Run, out var run) && LiveRuns.ContainsKey(run)));
        var containers = (await client.Containers.ListContainersAsync(
            new ContainersListParameters { All = true, Filters = filter }, cancellationToken).ConfigureAwait(false))
            .Where(c => !Keep(c.Labels)).ToList();
        await Task.WhenAll(containers.Select(async c =>
        {
            try
            {
                if (c.State == "paused")
                {
                    await client.Containers.UnpauseContainerAsync(c.ID, cancellationToken).ConfigureAwait(false);
                }
                await client.Containers.RemoveContainerAsync(
                    c.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancellationToken).ConfigureAwait(false);
            }
            catch (DockerContainerNotFoundException)
            {
            }
        })).ConfigureAwait(false);
        removed.AddRange(containers.Select(c => "container " + string.Join(',', c.Names).TrimStart('/')));

        var networks = await client.Networks.ListNetworksAsync(
            new NetworksListParameters { Filters = filter }, cancellationToken).ConfigureAwait(false);
        foreach (var network in networks.Where(n => !Keep(n.Labels)))
        {
            try
            {
                await client.Networks.DeleteNetworkAsync(network.ID, cancellationToken).ConfigureAwait(false);
                removed.Add("network " + network.Name);
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }

        var volumes = await client.Volumes.ListAsync(new VolumesListParameters { Filters = filter }, cancellationToken).ConfigureAwait(false);
        foreach (var volume in (volumes.Volumes ?? []).Where(v => !Keep(v.Labels)))
        {
            await client.Volumes.RemoveAsync(volume.Name, force: true, cancellationToken).ConfigureAwait(false);
            removed.Add("volume " + volume.Name);
        }
        return removed;
    }
}
