using Docker.DotNet;
using PatroniModel.RealCluster.Docker;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>
/// The Spilo flavor end to end, on the Spilo-contract stand-in (docker/spilo-contract, built by
/// scripts/build-spilo-contract-image.sh): the PatroniModel image started the way Spilo starts and configured the way
/// Spilo configures itself, from the environment, with Spilo's defaults (ttl 30, loop_wait 10, wal_level hot_standby,
/// SSL) under our SPILO_CONFIGURATION. No registry serves the real Spilo here; where one does, setting
/// PATRONI_MODEL_SPILO_IMAGE runs every real-cluster test on it instead. Each sequence must agree with the model as on
/// the Debian-built members: a failover within the ttl we set, slots decoded, the gap measured, ignore_slots honoured.
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed class SpiloContractConformanceTests(ConformanceTimings timings, ITestOutputHelper output)
{
    /// <summary>The stand-in image; <c>PATRONI_MODEL_SPILO_CONTRACT_IMAGE</c> overrides it, as for the build script.</summary>
    public static string StandInImage =>
        Environment.GetEnvironmentVariable("PATRONI_MODEL_SPILO_CONTRACT_IMAGE") is { Length: > 0 } image ? image : "patroni-model/spilo-contract:latest";

    [Theory]
    [InlineData("07-hard-leader-kill-and-rejoin.json")]
    [InlineData("06-permanent-slot-survives-switchover.json")]
    [InlineData("12-ignore-slots-protects.json")]
    public async Task CorpusSequence_OnSpiloContractMembers_AgreesWithTheModel(string file)
    {
        // Given a corpus sequence and the stand-in image on this engine (never pulled: it is built here)
        var sequence = ConformanceReplay.Load(file);
        await RequireStandInAsync();

        // When it runs on Spilo-contract members and on the model, step by step
        var report = await ConformanceReplay.RunAsync(
            "spilo-" + Path.GetFileNameWithoutExtension(file), sequence, output, timings, configure: b => b.WithSpiloImage(StandInImage));

        // Then they agree on every step
        Assert.True(report.Agrees, report.Verdict);
    }

    private static async Task RequireStandInAsync()
    {
        try
        {
            using var docker = await DockerEngine.ConnectAsync();
            await docker.Images.InspectImageAsync(StandInImage);
        }
        catch (DockerEngineUnavailableException e)
        {
            throw new XunitException(e.Message);
        }
        catch (DockerImageNotFoundException)
        {
            throw new XunitException($"the Spilo-contract stand-in {StandInImage} is not built; build it with `sudo scripts/build-spilo-contract-image.sh` (./test.sh does it)");
        }
    }
}
