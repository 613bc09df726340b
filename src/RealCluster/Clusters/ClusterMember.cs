using System.Net;
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

    /// <summary>What the tests did to the member last: running, stopped (SIGKILL), frozen (pause), partitioned (disconnected).</summary>
    public MemberState State { get; internal set; } = MemberState.Running;

    public Uri RestUri => new($"http://{Address}:{Configuration.PatroniYaml.RestPort}/");

    public override string ToString() => $"{Name} ({Address}, {State.ToString().ToLowerInvariant()})";
}
