using Xunit;
using System.Collections.Immutable;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Tests.ScenariosTests.Sequences;

public sealed class SequenceFileTests
{
    private static Sequence EveryStepKind() => new(
        new ClusterConfig
        {
            Members = 5,
            Ttl = 6,
            LoopWait = 1,
            RetryTimeout = 2,
            MaximumLagOnFailover = 2048,
            SynchronousMode = SynchronousMode.Strict,
            PermanentSlots = ["s1"],
            IgnoreSlots = ["s3"],
            Dcs = DcsFlavor.Etcd3,
        },
        [
            new CreateSlot("s1", Permanent: true),
            new CreateSlot("s2"),
            new Write(5),
            new Consume("s2"),
            new AdvanceWal(65536),
            new Checkpoint(),
            new Switchover("pg1", "pg3"),
            new Switchover("pg3"),
            new Failover("pg2"),
            new Kill("pg2"),
            new Start("pg2"),
            new Freeze("pg1"),
            new Thaw("pg1"),
            new Partition("pg4"),
            new Heal("pg4"),
            new Restart("pg5"),
            new PatchConfig(new ConfigPatch { PermanentSlots = ["s1", "s2"], IgnoreSlots = [], Ttl = 10, SynchronousMode = SynchronousMode.On }),
            new Reconcile("s2"),
            new Reconcile("s2", Lsn.Parse("0/3000060")),
            new Reconcile("s2", Lsn.Parse("FFFFFFFF/0"), 1),
            new Settle(),
            new Wait(12),
            new DropSlot("s2"),
        ],
        "every step kind \"quoted\"",
        "1234,5678,30");

    [Fact]
    public void Write_ThenParse_ThenWrite_IsByteIdentical()
    {
        // Given a sequence with every step kind
        var first = SequenceFile.Write(EveryStepKind());

        // When it is read back and written again
        var second = SequenceFile.Write(SequenceFile.Parse(first, "roundtrip.json"));

        // Then the bytes are the same
        Assert.Equal(first, second);
    }

    [Fact]
    public void Parse_OfWrittenSequence_GivesTheSameStepsAndConfig()
    {
        var sequence = EveryStepKind();

        var parsed = SequenceFile.Parse(SequenceFile.Write(sequence));

        Assert.Equal(sequence.Steps.Select(s => s.ToString()), parsed.Steps.Select(s => s.ToString()));
        Assert.Equal(sequence.Steps.ToArray(), parsed.Steps.ToArray());
        Assert.Equal(5, parsed.Config.Members);
        Assert.Equal(SynchronousMode.Strict, parsed.Config.SynchronousMode);
        Assert.Equal(DcsFlavor.Etcd3, parsed.Config.Dcs);
        Assert.Equal(["s1"], parsed.Config.PermanentSlots.ToArray());
        Assert.Equal("1234,5678,30", parsed.Origin);
    }

    [Fact]
    public void SaveAndLoad_ThroughAFile_RoundTripsByteIdentically()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pm-seq-{Guid.NewGuid():N}.json");
        try
        {
            SequenceFile.Save(EveryStepKind(), path);
            var text = File.ReadAllText(path);

            SequenceFile.Save(SequenceFile.Load(path), path);

            Assert.Equal(text, File.ReadAllText(path));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}*.tmp"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{\"kind\": \"kil\", \"member\": \"pg2\"}", "step 1: unknown step kind 'kil'")]
    [InlineData("{\"kind\": \"kill\", \"member\": \"pg7\"}", "step 1: unknown member 'pg7' in 'member' (the cluster has pg1, pg2, pg3)")]
    [InlineData("{\"kind\": \"kill\", \"membr\": \"pg2\"}", "step 1: missing field 'member'")]
    [InlineData("{\"kind\": \"kill\"}", "step 1: missing field 'member'")]
    [InlineData("{\"kind\": \"kill\", \"member\": \"pg2\", \"extra\": 1}", "step 1: step 'kill': unknown field 'extra'")]
    [InlineData("{\"kind\": \"reconcile\", \"slot\": \"s1\", \"last_confirmed\": \"0/30G0060\"}", "step 1: field 'last_confirmed' is '0/30G0060', not an LSN")]
    [InlineData("{\"kind\": \"reconcile\", \"slot\": \"s1\", \"timeline\": 2}", "step 1: field 'timeline' needs 'last_confirmed'")]
    [InlineData("{\"kind\": \"create-slot\", \"slot\": \"S1; drop\"}", "step 1: invalid slot name 'S1; drop'")]
    [InlineData("{\"kind\": \"write\", \"rows\": \"5\"}", "step 1: field 'rows' must be a number, found a string")]
    [InlineData("{\"kind\": \"write\", \"rows\": 0}", "step 1: field 'rows' must be a whole number from 1 to 100000, found 0")]
    [InlineData("{\"kind\": \"patch-config\"}", "step 1: patch-config changes nothing")]
    [InlineData("{\"kind\": \"patch-config\", \"synchronous_mode\": \"maybe\"}", "step 1: field 'synchronous_mode' is 'maybe'")]
    [InlineData("\"kill pg2\"", "step 1: a step must be a JSON object")]
    public void Parse_OfABadStep_NamesFileStepIndexAndReason(string badStep, string expected)
    {
        // Given a file whose second step is bad
        var json = $$"""
            {"format": "patroni-model/sequence@1", "cluster": {"members": 3}, "steps": [
              {"kind": "settle"},
              {{badStep}}
            ]}
            """;

        // When it is read
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(json, "bad.json"));

        // Then the one-line message names the file, the step index and the reason
        Assert.StartsWith("bad.json: ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(1, error.StepIndex);
    }

    [Theory]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {}, \"steps\": [", "malformed JSON at line 1")]
    [InlineData("[]", "the file must hold one JSON object")]
    [InlineData("{\"format\": \"patroni-model/sequence@2\", \"cluster\": {}, \"steps\": []}", "format is 'patroni-model/sequence@2'")]
    [InlineData("{\"cluster\": {}, \"steps\": []}", "missing field 'format'")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"steps\": []}", "missing field 'cluster'")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {}}", "missing field 'steps'")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {\"memberz\": 3}, \"steps\": []}", "cluster: unknown field 'memberz'")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {\"members\": 0}, \"steps\": []}", "field 'members' must be a whole number from 1 to 9, found 0")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {\"ttl\": 3}, \"steps\": []}", "must be at least loop_wait + retry_timeout")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {\"dcs\": \"zookeeper\"}, \"steps\": []}", "dcs 'zookeeper' is unknown")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {\"postgres\": 16}, \"steps\": []}", "field 'postgres' must be 15 or 17, found 16")]
    [InlineData("{\"format\": \"patroni-model/sequence@1\", \"cluster\": {\"synchronized_standby_slots\": true}, \"steps\": []}", "cluster: synchronized_standby_slots needs postgres 17")]
    public void Parse_OfABadFile_SaysWhatIsWrongInOneLine(string json, string expected)
    {
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(json, "bad.json"));

        Assert.StartsWith("bad.json: ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Null(error.StepIndex);
    }

    [Fact]
    public void Load_OfAMissingFile_IsAFormatErrorNamingTheFile()
    {
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Load("/nonexistent/seq.json"));

        Assert.StartsWith("/nonexistent/seq.json: can't read the file", error.Message);
    }

    [Fact]
    public void Validate_OfAStepOnAMemberOutsideTheCluster_NamesTheStep()
    {
        var sequence = new Sequence(new ClusterConfig { Members = 3 }, ImmutableArray.Create<Step>(new Settle(), new Kill("pg4")));

        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Validate(sequence, "gen"));

        Assert.Equal("gen: step 1: unknown member 'pg4' (the cluster has pg1, pg2, pg3)", error.Message);
    }

    [Fact]
    public void Parse_OfAMinimalFile_UsesTheDocumentedDefaults()
    {
        var sequence = SequenceFile.Parse("""{"format": "patroni-model/sequence@1", "cluster": {}, "steps": []}""");

        Assert.Equal(ClusterConfig.Default.Members, sequence.Config.Members);
        Assert.Equal(10, sequence.Config.Ttl);
        Assert.Equal(2, sequence.Config.LoopWait);
        Assert.Equal(4, sequence.Config.RetryTimeout);
        Assert.Equal(1_048_576, sequence.Config.MaximumLagOnFailover);
        Assert.Equal(DcsFlavor.Etcd, sequence.Config.Dcs);
        Assert.Equal(15, sequence.Config.PostgresMajor);
        Assert.False(sequence.Config.SynchronizedStandbySlots);
        Assert.Empty(sequence.Steps);
    }

    [Fact]
    public void WriteAndParse_OfAPostgres17Cluster_KeepsFailoverSlotOptionsAndOnlyThenWritesThem()
    {
        // Given a PostgreSQL 17 cluster with synchronized_standby_slots, and the same cluster on 15
        var pg17 = new Sequence(new ClusterConfig { PostgresMajor = 17, SynchronizedStandbySlots = true }, [new CreateSlot("s1")]);
        var pg15 = pg17 with { Config = ClusterConfig.Default };

        // When both are written and the first is read back
        var written = SequenceFile.Write(pg17);
        var parsed = SequenceFile.Parse(written, "pg17.json");

        // Then the options survive, and a 15 cluster's file has no PostgreSQL 17 fields at all
        Assert.Contains("\"dcs\": \"etcd\",\n    \"postgres\": 17,\n    \"synchronized_standby_slots\": true\n  },", written, StringComparison.Ordinal);
        Assert.Equal(pg17.Config, parsed.Config);
        Assert.True(parsed.Config.FailoverSlots);
        Assert.Equal(written, SequenceFile.Write(parsed));
        Assert.DoesNotContain("postgres\"", SequenceFile.Write(pg15), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteAndParse_OfAClusterWithAnInitialWal_KeepsItAndOnlyThenWritesIt()
    {
        // Given a cluster whose WAL starts just below 1/0, and the same cluster with the model's usual start
        var boundary = new Sequence(ClusterConfig.Default with { InitialWal = Lsn.Parse("0/FFFFFF00") }, [new Write(1)]);
        var usual = boundary with { Config = ClusterConfig.Default };

        // When both are written and the first is read back
        var written = SequenceFile.Write(boundary);
        var parsed = SequenceFile.Parse(written, "boundary.json");

        // Then the start survives, and a file without one is what the writer wrote before initial_wal existed
        Assert.Contains("\"dcs\": \"etcd\",\n    \"initial_wal\": \"0/FFFFFF00\"\n  },", written, StringComparison.Ordinal);
        Assert.Equal(boundary.Config, parsed.Config);
        Assert.NotEqual(usual.Config, parsed.Config);
        Assert.Equal(written, SequenceFile.Write(parsed));
        Assert.DoesNotContain("initial_wal", SequenceFile.Write(usual), StringComparison.Ordinal);
        Assert.Null(SequenceFile.Parse(SequenceFile.Write(usual)).Config.InitialWal);
    }

    [Theory]
    [InlineData("\"0/FFFFFF00\"", null)]
    [InlineData("\"0/1000028\"", null)]
    [InlineData("\"FFFFFFFF/0\"", null)]
    [InlineData("\"0/100\"", "initial_wal must be 0/1000028..FFFFFFFF/0, got 0/100")]
    [InlineData("\"FFFFFFFF/1\"", "initial_wal must be 0/1000028..FFFFFFFF/0, got FFFFFFFF/1")]
    public void Parse_OfAnInitialWal_AcceptsTheModelsRangeOnly(string value, string? problem)
    {
        // Given a file with that initial_wal
        var json = $$"""{"format": "patroni-model/sequence@1", "cluster": {"initial_wal": {{value}}}, "steps": []}""";

        // When it is read / Then a start in range is kept, one outside is refused in one line saying why
        if (problem is null)
        {
            Assert.Equal(Lsn.Parse(value.Trim('"')), SequenceFile.Parse(json).Config.InitialWal);
            return;
        }
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(json, "range.json"));
        Assert.Equal($"range.json: cluster: {problem}", error.Message);
    }

    [Fact]
    public void Parse_OfAnInitialWalThatIsNoLsn_SaysSoInOneLine()
    {
        var error = Assert.Throws<SequenceFormatException>(() =>
            SequenceFile.Parse("""{"format": "patroni-model/sequence@1", "cluster": {"initial_wal": "1000"}, "steps": []}""", "bad.json"));

        Assert.Contains("initial_wal", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
