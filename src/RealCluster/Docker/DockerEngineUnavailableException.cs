namespace PatroniModel.RealCluster.Docker;

/// <summary>
/// A piece of the Docker environment is missing (no engine answers, the Patroni image is not built).
/// The message is one line: what is missing and how to get it.
/// </summary>
public sealed class DockerEngineUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
