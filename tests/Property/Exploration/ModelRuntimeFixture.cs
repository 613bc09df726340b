using PatroniModel.Model;

namespace PatroniModel.Tests.Property.Exploration;

/// <summary>One model runtime (one ActorSystem) per test class, reused by every sequence the class runs.</summary>
public sealed class ModelRuntimeFixture : IDisposable
{
    public ModelRuntime Runtime { get; } = new();

    public void Dispose() => Runtime.Dispose();
}
