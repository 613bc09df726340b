using System.Net;

namespace PatroniModel.RealCluster.Docker;

/// <summary>
/// What the nemesis does to a member's container: kill and start, pause and unpause, disconnect from and reconnect to the
/// cluster's network (the seam Testcontainers calls <c>IDockerContainerOperations</c>).
/// </summary>
public interface IContainerOperations
{
    /// <summary>SIGKILL the container (Patroni and PostgreSQL die at once).</summary>
    Task KillAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Start a killed container again.</summary>
    Task StartAsync(string containerId, CancellationToken cancellationToken);

    /// <summary><c>docker pause</c>: every process of the container stops running.</summary>
    Task PauseAsync(string containerId, CancellationToken cancellationToken);

    /// <summary><c>docker unpause</c>.</summary>
    Task UnpauseAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Disconnect the container from the cluster's network (DCS and the other members).</summary>
    Task DisconnectAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Reconnect the container to the cluster's network at its fixed address and alias.</summary>
    Task ConnectAsync(string containerId, string alias, IPAddress address, CancellationToken cancellationToken);
}
