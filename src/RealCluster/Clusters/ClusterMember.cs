using System.Net;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.RealCluster.Clusters;

/// <summary>One container of the cluster: its name in the cluster (<c>pg1</c>, <c>etcd1</c>), container and fixed address.</summary>
public sealed class ClusterMember(string name, string containerId, string containerName, IPAddress address)
{
    public string Name { get; } = name;

    public string ContainerId { get; } = containerId;

    public string ContainerName { get; } = containerName;

    /// <summary>The member's fixed address on the cluster's bridge network; the host reaches it directly (iptables is off, no port publishing).</summary>
    public IPAddress Address { get; } = address;

    /// <summary>What the nemesis has done to the member (see <see cref="MemberFaults"/>).</summary>
    public MemberFaults Faults { get; internal set; }

    /// <summary>Killed (SIGKILL) and not started again.</summary>
    public bool IsStopped
    {
        get => Faults.Stopped;
        internal set => Faults = Faults with { Stopped = value };
    }

    /// <summary>Paused (<c>docker pause</c>) and not unpaused.</summary>
    public bool IsFrozen => Faults.Frozen;

    /// <summary>Disconnected from the cluster's network and not reconnected.</summary>
    public bool IsDisconnected => Faults.Partitioned;

    /// <summary>What the tests did to the member, the strongest first: stopped, frozen, partitioned, else running.</summary>
    public MemberState State => Faults.State;

    public Uri RestUri => new($"http://{Address}:{Configuration.PatroniYaml.RestPort}/");

    public override string ToString() => $"{Name} ({Address}, {State.ToString().ToLowerInvariant()})";
}
