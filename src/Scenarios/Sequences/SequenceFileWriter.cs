using System.Globalization;
using System.Text;
using System.Text.Json;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>Writes sequence files canonically (<see cref="SequenceFile"/>): each step by its row of <see cref="StepSchema"/>.</summary>
internal static class SequenceFileWriter
{
    public static void Save(Sequence sequence, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, Write(sequence), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    private static string OneLine(string text) =>
        text.IndexOfAny(['\n', '\r', '\u0085', '\u2028', '\u2029']) < 0
            ? text
            : string.Join(' ', text.Split(["\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"], StringSplitOptions.None));

    /// <summary>The canonical text of a sequence file.</summary>
    public static string Write(Sequence sequence)
    {
        var c = sequence.Config;
        var b = new StringBuilder();
        b.Append("{\n");
        b.Append($"  \"format\": {Str(SequenceFile.Format)},\n");
        // One line each, as the reader takes them: a line break in a generated description becomes a space.
        b.Append($"  \"description\": {Str(OneLine(sequence.Description))},\n");
        b.Append($"  \"origin\": {Str(OneLine(sequence.Origin))},\n");
        b.Append("  \"cluster\": {\n");
        b.Append($"    \"members\": {Num(c.Members)},\n");
        b.Append($"    \"ttl\": {Num(c.Ttl)},\n");
        b.Append($"    \"loop_wait\": {Num(c.LoopWait)},\n");
        b.Append($"    \"retry_timeout\": {Num(c.RetryTimeout)},\n");
        b.Append($"    \"maximum_lag_on_failover\": {Num(c.MaximumLagOnFailover)},\n");
        b.Append($"    \"synchronous_mode\": {Str(SynchronousModeNames.ToName(c.SynchronousMode))},\n");
        b.Append($"    \"permanent_slots\": {StrArray(c.PermanentSlots)},\n");
        b.Append($"    \"ignore_slots\": {StrArray(c.IgnoreSlots)},\n");
        b.Append($"    \"dcs\": {Str(c.Dcs == DcsFlavor.Etcd3 ? "etcd3" : "etcd")}");
        // PostgreSQL 17 fields only when set, so files written before them stay byte for byte what the writer writes.
        if (c.PostgresMajor != ClusterConfig.Default.PostgresMajor || c.SynchronizedStandbySlots)
        {
            b.Append($",\n    \"postgres\": {Num(c.PostgresMajor)}");
            b.Append($",\n    \"synchronized_standby_slots\": {(c.SynchronizedStandbySlots ? "true" : "false")}");
        }
        if (c.InitialWal is { } start)
        {
            b.Append($",\n    \"initial_wal\": {Str(start.ToString())}");
        }
        b.Append('\n');
        b.Append("  },\n");
        if (sequence.Steps.IsEmpty)
        {
            b.Append("  \"steps\": []\n");
        }
        else
        {
            b.Append("  \"steps\": [\n");
            for (var i = 0; i < sequence.Steps.Length; i++)
            {
                b.Append("    ").Append(StepJson(sequence.Steps[i])).Append(i + 1 < sequence.Steps.Length ? ",\n" : "\n");
            }
            b.Append("  ]\n");
        }
        b.Append("}\n");
        return b.ToString();
    }

    /// <summary>One step as a one-line JSON object, as it appears in a sequence file.</summary>
    public static string StepJson(Step step)
    {
        var entry = StepSchema.Find(step.Kind) ?? throw new ArgumentOutOfRangeException(nameof(step), step, "a step kind sequence files do not know");
        var fields = new List<(string Name, string Json)> { ("kind", Str(step.Kind)) };
        fields.AddRange(entry.Write(step));
        return "{" + string.Join(", ", fields.Select(f => $"{Str(f.Name)}: {f.Json}")) + "}";
    }

    private static string Str(string value) => Json.Str(value);

    private static string Num(long value) => Json.Num(value);

    private static string StrArray(IEnumerable<string> values) => Json.StrArray(values);
}

/// <summary>JSON text for the canonical writer: strings without needless escapes, invariant numbers.</summary>
internal static class Json
{
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Str(string value) => JsonSerializer.Serialize(value, Readable);

    public static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string StrArray(IEnumerable<string> values) => "[" + string.Join(", ", values.Select(Str)) + "]";
}
