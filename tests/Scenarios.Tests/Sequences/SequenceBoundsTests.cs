using System.Text;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;
using Xunit;

namespace PatroniModel.Tests.ScenariosTests.Sequences;

/// <summary>
/// Every number and size in a sequence file has a bound (<see cref="SequenceBounds"/>, <see cref="ClusterConfig.Problems"/>),
/// stated exactly in the one line that refuses it; the same setting has the same bound in <c>cluster</c> and in
/// <c>patch-config</c>; a description is one line; a directory or an oversized file is said to be one.
/// </summary>
public sealed class SequenceBoundsTests
{
    private static string File(string steps, string cluster = "{}") =>
        $$"""{"format": "patroni-model/sequence@1", "cluster": {{cluster}}, "steps": [{"kind": "settle"}, {{steps}}]}""";

    [Theory]
    [InlineData("""{"kind": "write", "rows": 100001}""", "step 1: field 'rows' must be a whole number from 1 to 100000, found 100001")]
    [InlineData("""{"kind": "write", "rows": 2000000000}""", "step 1: field 'rows' must be a whole number from 1 to 100000, found 2000000000")]
    [InlineData("""{"kind": "write", "rows": -1}""", "step 1: field 'rows' must be a whole number from 1 to 100000, found -1")]
    [InlineData("""{"kind": "wait", "seconds": 0}""", "step 1: field 'seconds' must be a whole number from 1 to 3600, found 0")]
    [InlineData("""{"kind": "wait", "seconds": 1000000000}""", "step 1: field 'seconds' must be a whole number from 1 to 3600, found 1000000000")]
    [InlineData("""{"kind": "wait", "seconds": 1e9}""", "step 1: field 'seconds' must be a whole number from 1 to 3600, found 1e9")]
    [InlineData("""{"kind": "advance-wal", "bytes": 1073741825}""", "step 1: field 'bytes' must be a whole number from 1 to 1073741824, found 1073741825")]
    [InlineData("""{"kind": "advance-wal", "bytes": 99999999999999999999999}""", "step 1: field 'bytes' must be a whole number from 1 to 1073741824, found 99999999999999999999999")]
    [InlineData("""{"kind": "reconcile", "slot": "s1", "last_confirmed": "0/3000060", "timeline": 0}""", "step 1: field 'timeline' must be a whole number from 1 to 2147483647, found 0")]
    [InlineData("""{"kind": "patch-config", "ttl": 0}""", "step 1: field 'ttl' must be a whole number from 2 to 3600, found 0")]
    [InlineData("""{"kind": "patch-config", "loop_wait": 3601}""", "step 1: field 'loop_wait' must be a whole number from 1 to 3600, found 3601")]
    [InlineData("""{"kind": "patch-config", "maximum_lag_on_failover": -1}""", "step 1: field 'maximum_lag_on_failover' must be a whole number from 0 to 1099511627776, found -1")]
    [InlineData("""{"kind": "patch-config", "ttl": 5}""", "step 1: patch-config: ttl (5) must be at least loop_wait + retry_timeout (6), as Patroni requires")]
    [InlineData("""{"kind": "patch-config", "tll": 5}""", "step 1: step 'patch-config': unknown field 'tll' (known: kind, permanent_slots, ignore_slots, ttl, loop_wait, retry_timeout, maximum_lag_on_failover, synchronous_mode)")]
    public void Parse_OfAStepNumberOutsideItsBound_IsOneLineStatingTheExactRange(string step, string expected)
    {
        // Given a file whose second step is out of bounds, When it is read
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(File(step), "bounds.json"));

        // Then one line names the file, the step and the range exactly
        Assert.Equal($"bounds.json: {expected}", error.Message);
    }

    [Theory]
    [InlineData("ttl", "0", "field 'ttl' must be a whole number from 2 to 3600, found 0")]
    [InlineData("loop_wait", "3601", "field 'loop_wait' must be a whole number from 1 to 3600, found 3601")]
    [InlineData("retry_timeout", "0", "field 'retry_timeout' must be a whole number from 1 to 3600, found 0")]
    [InlineData("maximum_lag_on_failover", "-1", "field 'maximum_lag_on_failover' must be a whole number from 0 to 1099511627776, found -1")]
    public void ASetting_HasTheSameBound_InTheClusterAndInAPatchConfigStep(string field, string value, string expected)
    {
        // Given the same bad value as the cluster's setting and as a patch-config of it
        var inCluster = File("""{"kind": "settle"}""", $$"""{"{{field}}": {{value}}}""");
        var inPatch = File($$"""{"kind": "patch-config", "{{field}}": {{value}}}""");

        // When both are read
        var clusterError = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(inCluster, "f.json"));
        var patchError = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(inPatch, "f.json"));

        // Then both are refused with the same reason
        Assert.Equal($"f.json: {expected}", clusterError.Message);
        Assert.Equal($"f.json: step 1: {expected}", patchError.Message);
    }

    [Fact]
    public void Parse_AtEachBound_Accepts()
    {
        var sequence = SequenceFile.Parse(File(
            """
            {"kind": "write", "rows": 100000}, {"kind": "wait", "seconds": 3600}, {"kind": "advance-wal", "bytes": 1073741824},
            {"kind": "patch-config", "ttl": 3600, "loop_wait": 3599, "retry_timeout": 1, "maximum_lag_on_failover": 1099511627776}
            """, """{"members": 9, "ttl": 2, "loop_wait": 1, "retry_timeout": 1, "maximum_lag_on_failover": 0}"""));

        Assert.Equal(5, sequence.Steps.Length);
        Assert.Equal(new Write(100_000), sequence.Steps[1]);
        Assert.Equal(new Wait(3_600), sequence.Steps[2]);
        Assert.Equal(new AdvanceWal(1L << 30), sequence.Steps[3]);
    }

    [Fact]
    public void Parse_OfWritesAndWaitsAddingUpPastTheirSequenceBound_NamesTheStepThatCrossesIt()
    {
        var writes = string.Join(", ", Enumerable.Repeat("""{"kind": "write", "rows": 100000}""", 11));
        var waits = string.Join(", ", Enumerable.Repeat("""{"kind": "wait", "seconds": 3600}""", 25));

        var rows = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(File(writes), "w.json"));
        var seconds = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(File(waits), "w.json"));

        Assert.Equal("w.json: step 11: the writes add up to 1100000 rows, at most 1000000 in one sequence", rows.Message);
        Assert.Equal("w.json: step 25: the waits add up to 90000 s, at most 86400 s in one sequence", seconds.Message);
        Assert.Equal(11, SequenceFile.Parse(File(string.Join(", ", Enumerable.Repeat("""{"kind": "write", "rows": 100000}""", 10)))).Steps.Length);
    }

    [Fact]
    public void Parse_OfMoreStepsThanTheBound_IsRefusedBeforeAnyStepIsRead()
    {
        var steps = string.Join(", ", Enumerable.Repeat("""{"kind": "settle"}""", SequenceBounds.MaxSteps));

        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(File(steps), "long.json"));

        Assert.Equal("long.json: steps: 10001 steps, at most 10000 in one sequence", error.Message);
        Assert.Equal(SequenceBounds.MaxSteps, SequenceFile.Parse(File(string.Join(", ", Enumerable.Repeat("""{"kind": "settle"}""", SequenceBounds.MaxSteps - 1)))).Steps.Length);
    }

    [Fact]
    public void Parse_OfTooManySlotsListed_IsRefused()
    {
        var slots = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"\"s{i}\""));

        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(File("""{"kind": "settle"}""", $$"""{"ignore_slots": [{{slots}}]}"""), "f.json"));

        Assert.Equal("f.json: field 'ignore_slots' lists 65 slots, at most 64", error.Message);
    }

    [Theory]
    [InlineData("description")]
    [InlineData("origin")]
    public void Parse_OfAMultiLineDescriptionOrOrigin_IsRefused_AndTheWriterWritesOneLine(string field)
    {
        // Given a file whose description (or origin) has a line break
        var json = $$"""{"format": "patroni-model/sequence@1", "{{field}}": "first\nsecond", "cluster": {}, "steps": []}""";

        // When it is read, and when a sequence with one is written and read back
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Parse(json, "d.json"));
        var written = SequenceFile.Parse(SequenceFile.Write(new Sequence(ClusterConfig.Default, [], "first\nsecond", "a\r\nb")));

        // Then the reader refuses it in one line, and the writer makes it one line
        Assert.Equal($"d.json: field '{field}' must be one line, found a line break", error.Message);
        Assert.Equal("first second", written.Description);
        Assert.Equal("a b", written.Origin);
    }

    [Fact]
    public void Load_OfADirectory_SaysItIsADirectory()
    {
        var directory = Directory.CreateTempSubdirectory("pm-seq-dir-").FullName;
        try
        {
            var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Load(directory));

            Assert.Equal($"{directory}: is a directory, not a sequence file", error.Message);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public void Load_OfAFileLargerThanTheBound_IsRefusedWithoutReadingItAll()
    {
        // Given a file one byte past the bound (valid JSON, padded with spaces), and one at the bound
        var path = Path.Combine(Path.GetTempPath(), $"pm-seq-big-{Guid.NewGuid():N}.json");
        var minimal = """{"format": "patroni-model/sequence@1", "cluster": {}, "steps": []}""";
        try
        {
            System.IO.File.WriteAllText(path, minimal + new string(' ', (int)SequenceBounds.MaxFileBytes - minimal.Length + 1), new UTF8Encoding(false));
            var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Load(path));
            System.IO.File.WriteAllText(path, minimal + new string(' ', (int)SequenceBounds.MaxFileBytes - minimal.Length), new UTF8Encoding(false));
            var atTheBound = SequenceFile.Load(path);

            Assert.Equal($"{path}: the file is larger than 8388608 bytes (8 MiB), the most a sequence file may be", error.Message);
            Assert.Empty(atTheBound.Steps);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void Load_OfADeviceThatNeverEnds_StopsAtTheBound()
    {
        var error = Assert.Throws<SequenceFormatException>(() => SequenceFile.Load("/dev/zero"));

        Assert.Equal("/dev/zero: the file is larger than 8388608 bytes (8 MiB), the most a sequence file may be", error.Message);
    }
}
