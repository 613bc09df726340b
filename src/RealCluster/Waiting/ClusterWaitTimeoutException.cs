namespace PatroniModel.RealCluster.Waiting;

/// <summary>
/// A wait on the real cluster ran out of time. The message says what was awaited, for how long, what was seen last
/// (Patroni's <c>/cluster</c> answer, replication state) and the tail of each member's log.
/// </summary>
public sealed class ClusterWaitTimeoutException(string message) : Exception(message);
