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

    /// <summary>The PostgreSQL 17 image (<c>PATRONI_MODEL_FLAVOR=pg17 scripts/build-image.sh</c>); <c>PATRONI_MODEL_PG17_IMAGE</c> overrides it.</summary>
    public static string Pg17Image =>
        Environment.GetEnvironmentVariable("PATRONI_MODEL_PG17_IMAGE") is { Length: > 0 } image ? image : "patroni-model/patroni-pg17:latest";

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
        if (!await ImageExistsAsync(client, image, cancellationToken).ConfigureAwait(false))
        {
            var flavor = image == Pg17Image ? "PATRONI_MODEL_FLAVOR=pg17 " : "";
            throw new DockerEngineUnavailableException(
                $"the Patroni image {image} is not built; build it with `sudo {flavor}scripts/build-image.sh` (./test.sh as root does it)");
        }
    }

    /// <summary>The environment variable that names a Spilo image to run the members on instead of the Debian-built image.</summary>
    public const string SpiloImageVariable = "PATRONI_MODEL_SPILO_IMAGE";

    /// <summary>The Spilo image <c>PATRONI_MODEL_SPILO_IMAGE</c> names, or null (the default: the Debian-built image).</summary>
    public static string? SpiloImageFromEnvironment =>
        Environment.GetEnvironmentVariable(SpiloImageVariable) is { Length: > 0 } image ? image.Trim() : null;

    /// <summary>
    /// Makes sure the Spilo image <paramref name="image"/> is on the engine, pulling it when it is not. Throws
    /// <see cref="DockerEngineUnavailableException"/> with one line (the image, why it can't be pulled, what to do)
    /// when the pull fails: no registry serves it, the name is wrong, or no answer within <paramref name="pullTimeout"/>.
    /// </summary>
    public static async Task EnsureSpiloImageAsync(
        DockerClient client, string image, Action<string>? log, TimeSpan pullTimeout, CancellationToken cancellationToken = default)
    {
        if (await ImageExistsAsync(client, image, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        var (repository, tag) = SplitReference(image);
        log?.Invoke($"pulling the Spilo image {image}");
        var progress = new PullProgress();
        string? error;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(pullTimeout);
            await client.Images.CreateImageAsync(
                new ImagesCreateParameters { FromImage = repository, Tag = tag }, null, progress, timeout.Token).ConfigureAwait(false);
            error = progress.Error;
        }
        catch (DockerApiException e)
        {
            error = e.ResponseBody is { Length: > 0 } body ? body : e.Message;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"no answer within {pullTimeout.TotalMinutes:F0} minutes";
        }
        catch (HttpRequestException e)
        {
            error = e.GetBaseException().Message;
        }
        if (error is null && await ImageExistsAsync(client, image, cancellationToken).ConfigureAwait(false))
        {
            log?.Invoke($"pulled {image}");
            return;
        }
        throw new DockerEngineUnavailableException(
            $"the Spilo image {image} named by {SpiloImageVariable} is not on this engine and cannot be pulled "
            + $"({OneLine(error ?? "the pull ended without the image")}); pull or `docker load` it on this engine, "
            + $"or unset {SpiloImageVariable} to run the Debian-built image");
    }

    /// <summary>Splits an image reference into the repository and the tag the pull asks for (<c>latest</c> when none is given, so that one tag, not every tag, is pulled).</summary>
    public static (string Repository, string? Tag) SplitReference(string image)
    {
        if (image.Contains('@', StringComparison.Ordinal))
        {
            return (image, null);
        }
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    private static async Task<bool> ImageExistsAsync(DockerClient client, string image, CancellationToken cancellationToken)
    {
        try
        {
            await client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    private static string OneLine(string text)
    {
        var line = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (line.StartsWith('{'))
        {
            try
            {
                using var json = System.Text.Json.JsonDocument.Parse(line);
                if (json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                    && json.RootElement.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text2)
                {
                    line = text2;
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    /// <summary>Collects the pull's error synchronously (<see cref="Progress{T}"/> would report on the thread pool, after the pull returns).</summary>
    private sealed class PullProgress : IProgress<JSONMessage>
    {
        public string? Error { get; private set; }

        public void Report(JSONMessage value)
        {
            if (value.Error?.Message is { Length: > 0 } message)
            {
                Error ??= message;
            }
            else if (value.ErrorMessage is { Length: > 0 } text)
            {
                Error ??= text;
            }
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
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // Its owner is removing it right now ("removal of container ... is already in progress").
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
