using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>
/// Reads sequence files (<see cref="SequenceFile"/>): the top level and the cluster here, each step by its row of
/// <see cref="StepSchema"/>. Every error is a <see cref="SequenceFormatException"/> naming the file, the step index and the reason.
/// </summary>
internal static class SequenceFileReader
{
    private static readonly string[] TopFields = ["format", "description", "origin", "cluster", "steps"];

    private static readonly string[] ClusterFields =
    [
        "members", "ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "synchronous_mode",
        "permanent_slots", "ignore_slots", "dcs", "postgres", "synchronized_standby_slots", "initial_wal",
    ];

    public static Sequence Load(string path)
    {
        if (Directory.Exists(path))
        {
            throw new SequenceFormatException(path, null, "is a directory, not a sequence file");
        }
        string text;
        try
        {
            text = ReadBounded(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SequenceFormatException(path, null, $"can't read the file: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>
    /// The file's text, read up to <see cref="SequenceBounds.MaxFileBytes"/> bytes and no further (a device or a pipe
    /// that never ends is refused at the bound, not read until memory runs out).
    /// </summary>
    private static string ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var buffer = new byte[Math.Min(SequenceBounds.MaxFileBytes + 1, stream.CanSeek ? Math.Max(stream.Length + 1, 4096) : SequenceBounds.MaxFileBytes + 1)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length > SequenceBounds.MaxFileBytes)
                {
                    throw new SequenceFormatException(path, null, TooLarge);
                }
                Array.Resize(ref buffer, (int)Math.Min(SequenceBounds.MaxFileBytes + 1, buffer.Length * 2L));
            }
            var read = stream.Read(buffer, length, buffer.Length - length);
            if (read == 0)
            {
                break;
            }
            length += read;
        }
        if (length > SequenceBounds.MaxFileBytes)
        {
            throw new SequenceFormatException(path, null, TooLarge);
        }
        var bom = length >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? 3 : 0;
        return Encoding.UTF8.GetString(buffer, bom, length - bom);
    }

    private static string TooLarge =>
        $"the file is larger than {SequenceBounds.MaxFileBytes} bytes (8 MiB), the most a sequence file may be";

    public static Sequence Parse(string json, string source = "<input>")
    {
        if (json.Length > SequenceBounds.MaxFileBytes || Encoding.UTF8.GetByteCount(json) > SequenceBounds.MaxFileBytes)
        {
            throw new SequenceFormatException(source, null, TooLarge);
        }
        JsonDocument document;
        try
        {
            // A key given twice is allowed here and rejected by the reader, which names the step it is in.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new SequenceFormatException(source, null, $"malformed JSON at line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}: {Reason(e.Message)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SequenceFormatException(source, null, "the file must hold one JSON object");
            }
            var reader = new SequenceFieldReader(source, null);
            reader.RejectUnknown(root, TopFields, "top level");
            var format = reader.RequiredString(root, "format");
            if (format != SequenceFile.Format)
            {
                throw new SequenceFormatException(source, null, $"format is '{format}', expected '{SequenceFile.Format}'");
            }
            var description = reader.OptionalLine(root, "description") ?? "";
            var origin = reader.OptionalLine(root, "origin") ?? "";
            var config = ReadCluster(reader, reader.Required(root, "cluster", JsonValueKind.Object));
            var problems = config.Problems().ToList();
            if (problems.Count > 0)
            {
                throw new SequenceFormatException(source, null, $"cluster: {problems[0]}");
            }
            var steps = reader.Required(root, "steps", JsonValueKind.Array);
            if (steps.GetArrayLength() > SequenceBounds.MaxSteps)
            {
                throw new SequenceFormatException(source, null, $"steps: {steps.GetArrayLength()} steps, at most {SequenceBounds.MaxSteps} in one sequence");
            }
            var parsed = ImmutableArray.CreateBuilder<Step>();
            var totals = new SequenceTotals(config);
            var index = 0;
            foreach (var element in steps.EnumerateArray())
            {
                var stepReader = new SequenceFieldReader(source, index);
                var step = ReadStep(stepReader, element, config);
                totals.Add(stepReader, step);
                parsed.Add(step);
                index++;
            }
            return new Sequence(config, parsed.ToImmutable(), description, origin);
        }
    }

    private static ClusterConfig ReadCluster(SequenceFieldReader reader, JsonElement cluster)
    {
        reader.RejectUnknown(cluster, ClusterFields, "cluster");
        var defaults = ClusterConfig.Default;
        return new ClusterConfig
        {
            Members = reader.OptionalInt(cluster, "members", 1, ClusterConfig.MaxMembers) ?? defaults.Members,
            Ttl = (int?)Setting(reader, cluster, "ttl") ?? defaults.Ttl,
            LoopWait = (int?)Setting(reader, cluster, "loop_wait") ?? defaults.LoopWait,
            RetryTimeout = (int?)Setting(reader, cluster, "retry_timeout") ?? defaults.RetryTimeout,
            MaximumLagOnFailover = Setting(reader, cluster, "maximum_lag_on_failover") ?? defaults.MaximumLagOnFailover,
            SynchronousMode = reader.OptionalSynchronousMode(cluster, "synchronous_mode") ?? defaults.SynchronousMode,
            PermanentSlots = reader.OptionalSlots(cluster, "permanent_slots") ?? defaults.PermanentSlots,
            IgnoreSlots = reader.OptionalSlots(cluster, "ignore_slots") ?? defaults.IgnoreSlots,
            Dcs = reader.OptionalString(cluster, "dcs") switch
            {
                null or "etcd" => DcsFlavor.Etcd,
                "etcd3" => DcsFlavor.Etcd3,
                var other => throw reader.Error($"cluster: dcs '{other}' is unknown (etcd or etcd3)"),
            },
            PostgresMajor = reader.OptionalChoice(cluster, "postgres", ClusterConfig.PostgresMajors) ?? defaults.PostgresMajor,
            SynchronizedStandbySlots = reader.OptionalBool(cluster, "synchronized_standby_slots") ?? defaults.SynchronizedStandbySlots,
            InitialWal = reader.OptionalLsn(cluster, "initial_wal"),
        };
    }

    /// <summary>A setting a <c>patch-config</c> step can change too, read with the range its row of <see cref="ConfigPatchFields"/> gives.</summary>
    private static long? Setting(SequenceFieldReader reader, JsonElement cluster, string name)
    {
        var field = ConfigPatchFields.Named(name);
        return reader.OptionalLong(cluster, name, field.Min, field.Max);
    }

    private static Step ReadStep(SequenceFieldReader reader, JsonElement element, ClusterConfig config)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw reader.Error($"a step must be a JSON object, found {element.ValueKind.ToString().ToLowerInvariant()}");
        }
        reader.RejectDuplicates(element, "");
        var kind = reader.RequiredString(element, "kind");
        var entry = StepSchema.Find(kind)
                    ?? throw reader.Error($"unknown step kind '{kind}' (known: {string.Join(", ", StepKinds.All)})");
        var step = entry.Read(new StepObjectReader(reader, element, config));
        reader.RejectUnknown(element, ["kind", .. entry.Fields], $"step '{kind}'");
        return step;
    }

    /// <summary>
    /// System.Text.Json's reason without its internals: the position (said once, as line and column), "Change the reader
    /// options", "in this mode", the path.
    /// </summary>
    internal static string Reason(string message)
    {
        var reason = message.Split('\n')[0].Trim();
        foreach (var cut in new[] { " LineNumber:", " Path:" })
        {
            var at = reason.IndexOf(cut, StringComparison.Ordinal);
            if (at >= 0)
            {
                reason = reason[..at];
            }
        }
        reason = reason.Replace(" Change the reader options.", "", StringComparison.Ordinal)
            .Replace(" which is not supported in this mode", "", StringComparison.Ordinal)
            .Replace(" in this mode", "", StringComparison.Ordinal)
            .Trim();
        return reason.Length == 0 ? "not valid JSON" : reason.TrimEnd('.');
    }
}

/// <summary>
/// What a sequence's steps add up to as they are read: rows written and seconds waited (bounded per sequence,
/// <see cref="SequenceBounds"/>), and the configuration the <c>patch-config</c> steps make, which must keep the bounds of
/// the cluster's own settings (<see cref="ClusterConfig.Problems"/>).
/// </summary>
internal sealed class SequenceTotals(ClusterConfig config)
{
    private ClusterConfig _config = config;
    private long _rows;
    private long _waitSeconds;

    public void Add(SequenceFieldReader reader, Step step)
    {
        switch (step)
        {
            case Faults.Write write:
                _rows += write.Rows;
                if (_rows > SequenceBounds.MaxTotalRows)
                {
                    throw reader.Error($"the writes add up to {_rows} rows, at most {SequenceBounds.MaxTotalRows} in one sequence");
                }
                break;
            case Wait wait:
                _waitSeconds += wait.Seconds;
                if (_waitSeconds > SequenceBounds.MaxTotalWaitSeconds)
                {
                    throw reader.Error($"the waits add up to {_waitSeconds} s, at most {SequenceBounds.MaxTotalWaitSeconds} s in one sequence");
                }
                break;
            case PatchConfig patch:
                var next = _config.Apply(patch.Patch);
                if (next.Problems().FirstOrDefault() is { } problem)
                {
                    throw reader.Error($"patch-config: {problem}");
                }
                _config = next;
                break;
        }
    }
}
