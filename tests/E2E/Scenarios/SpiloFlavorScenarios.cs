using Docker.DotNet.Models;
using PatroniModel.RealCluster.Docker;
using PatroniModel.Tests.E2E.Fixtures;
using Xunit;

namespace PatroniModel.Tests.E2E.Scenarios;

/// <summary>
/// The optional Spilo flavor: <c>PATRONI_MODEL_SPILO_IMAGE</c> names a Spilo image the members run on. Where it can't
/// be pulled (no registry serves it, as on this machine) the cluster is not built and the error says so in one line.
/// The flavor itself runs against the Spilo-contract stand-in in <see cref="Conformance.SpiloContractConformanceTests"/>.
/// </summary>
[Collection(RealClusterCollection.Name)]
public sealed class SpiloFlavorScenarios
{
    [Fact]
    public async Task SpiloFlavor_ImageThatCannotBePulled_FailsWithOneLineAndLeavesNothing()
    {
        // Given a Spilo image on a registry that does not answer (loopback port 1: no traffic leaves the machine)
        const string image = "localhost:1/patroni-model/no-such-spilo:15";
        using var docker = await DockerEngine.ConnectAsync();
        var before = await ProjectContainerCountAsync(docker);

        // When a cluster is built on it
        var error = await Assert.ThrowsAsync<DockerEngineUnavailableException>(
            () => SharedClusterFixture.Builder.WithSpiloImage(image).BuildAsync());

        // Then the error is one line naming the image, the variable, why, and what to do; and nothing was created
        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith($"the Spilo image {image} named by PATRONI_MODEL_SPILO_IMAGE is not on this engine and cannot be pulled (", error.Message, StringComparison.Ordinal);
        Assert.Contains("connection refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("or unset PATRONI_MODEL_SPILO_IMAGE to run the Debian-built image", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await ProjectContainerCountAsync(docker));
    }

    private static async Task<int> ProjectContainerCountAsync(Docker.DotNet.DockerClient docker) =>
        (await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = ResourceLabels.ProjectFilter() })).Count;
}
