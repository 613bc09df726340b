using PatroniModel.Model;

namespace PatroniModel.Tests.ModelTests.Support;

/// <summary>One ActorSystem for a test class, as the property suite and the benchmark use it.</summary>
public sealed class ModelFixture : IDisposable
{
    public ModelRuntime Runtime { get; } = new();

    public void Dispose() => Runtime.Dispose();
}
