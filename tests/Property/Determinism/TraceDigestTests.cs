using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using PatroniModel.Exploration.Exploring;
using PatroniModel.Exploration.Generation;
using PatroniModel.Exploration.Running;
using PatroniModel.Model;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Tests.Property.Exploration;
using Xunit;
using Xunit.Abstractions;

namespace PatroniModel.Tests.Property.Determinism;

/// <summary>
/// A digest of everything the model produces for a fixed set of generated sequences: every step's result, every observation
/// (digests and lost rows included) and the whole trace. A performance change must leave it as it was: set
/// <c>PATRONI_TRACE_DIGEST</c> to the digest printed before the change and run this test after it.
/// </summary>
public sealed class TraceDigestTests(ModelRuntimeFixture fixture, ITestOutputHelper output) : IClassFixture<ModelRuntimeFixture>
{
    [Fact]
    public void GeneratedSequences_RunTwice_GiveTheSameDigest_AndTheOneTheEnvironmentNames()
    {
        // Given 300 sequences of the suite's generators (every config family) and 60 long ones (120 steps, 5 members)
        var sequences = Explorer.Arbitrary.Generator.Sample(300, new Rnd(20261203UL, 7UL), 50)
            .Concat(Explorer.FailoverSlotArbitrary.Generator.Sample(40, new Rnd(3UL, 5UL), 50))
            .Concat(Explorer.ProbeArbitrary.Generator.Sample(40, new Rnd(4UL, 5UL), 50))
            .Concat(Explorer.WalBoundaryArbitrary.Generator.Sample(40, new Rnd(5UL, 5UL), 50))
            .Concat(SequenceGenerators.Sequences(120, 5).Sample(60, new Rnd(6UL, 5UL), 50))
            .ToList();

        // When each runs on a fresh model cluster, twice
        var first = Digest(sequences);
        var second = Digest(sequences);

        // Then the digests agree, and agree with the one recorded before a change, when given
        output.WriteLine($"trace digest of {sequences.Count} sequences: {first}");
        Assert.Equal(first, second);
        if (Environment.GetEnvironmentVariable("PATRONI_TRACE_DIGEST") is { Length: > 0 } expected)
        {
            Assert.Equal(expected, first);
        }
    }

    private string Digest(IReadOnlyList<Sequence> sequences)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var text = new StringBuilder();
        foreach (var sequence in sequences)
        {
            text.Clear();
            using (var cluster = fixture.Runtime.CreateCluster(sequence.Config, SequenceRunner.ClusterSeed))
            {
                Append(text, cluster.Observe());
                foreach (var step in sequence.Steps)
                {
                    text.Append(cluster.Apply(step)).Append('\n');
                    Append(text, cluster.Observe());
                }
                text.Append(cluster.TraceText());
            }
            hash.AppendData(Encoding.UTF8.GetBytes(text.ToString()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(StringBuilder text, Observation o)
    {
        text.Append(o).Append(" lost=[").AppendJoin(',', o.LostAcknowledged).Append("]\n");
        foreach (var m in o.Members)
        {
            text.Append(m.Name).Append(' ').Append(m.Digest).Append(' ').AppendJoin(',', m.Slots.Select(s => $"{s.Name}:{s.ConfirmedFlush}:{s.RestartLsn}")).Append('\n');
        }
    }
}
