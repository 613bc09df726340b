using PatroniModel.Scenarios.Faults;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.E2E.Scenarios;

[Collection(RealClusterCollection.Name)]
public sealed class SmokeScenarios(SharedClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task Smoke() => fixture.RunAsync(output, nameof(Smoke), async cluster =>
    {
        await cluster.ApplyAsync(new Write(5));
        var o = await cluster.ObserveAsync();
        output.WriteLine(o.ToString());
        Assert.NotNull(o.Leader);
    });
}
