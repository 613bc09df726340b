using Docker.DotNet;
using Docker.DotNet.Models;

namespace PatroniModel.RealCluster.Docker;

/// <summary>The container operations on a Docker engine, for the members of one cluster network.</summary>
public sealed class DockerContainerOperations(DockerClient docker, string networkId) : IContainerOperations
{
    public Task KillAsync(string containerId, CancellationToken cancellationToken) =>
        docker.Containers.KillContainerAsync(containerId, new ContainerKillParameters { Signal = "SIGKILL" }, cancellationToken);

    public Task StartAsync(string containerId, CancellationToken cancellationToken) =>
        docker.Containers.StartContainerAsync(containerId, new ContainerStartParameters(), cancellationToken);

    public Task PauseAsync(string containerId, CancellationToken cancellationToken) =>
        docker.Containers.PauseContainerAsync(containerId, cancellationToken);

    public Task UnpauseAsync(string containerId, CancellationToken cancellationToken) =>
        docker.Containers.UnpauseContainerAsync(containerId, cancellationToken);

    public Task DisconnectAsync(string containerId, CancellationToken cancellationToken) =>
        docker.Networks.DisconnectNetworkAsync(networkId, new NetworkDisconnectParameters { Container = containerId, Force = true }, cancellationToken);

    public Task ConnectAsync(string containerId, string alias, System.Net.IPAddress address, CancellationToken cancellationToken) =>
        docker.Networks.ConnectNetworkAsync(networkId, new NetworkConnectParameters
        {
            Container = containerId,
            EndpointConfig = EndpointSettingsFor(alias, address),
        }, cancellationToken);

    /// <summary>The member's place on the cluster network: its name as alias (Patroni's connect addresses use it) and its fixed address.</summary>
    internal static EndpointSettings EndpointSettingsFor(string name, System.Net.IPAddress address) => new()
    {
        Aliases = [name],
        IPAMConfig = new EndpointIPAMConfig { IPv4Address = address.ToString() },
    };
}
