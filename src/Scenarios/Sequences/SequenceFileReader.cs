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
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SequenceFormatException(path, null, $"can't read the file: {e.Message}");
        }
        return Parse(text, path);
    }

    public static Sequence Parse(string json, string source = "<input>")
    {
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
            var description = reader.OptionalString(root, "description") ?? "";
            var origin = reader.OptionalString(root, "origin") ?? "";
            var config = ReadCluster(reader, reader.Required(root, "cluster", JsonValueKind.Object));
            var problems = config.Problems().ToList();
            if (problems.Count > 0)
            {
                throw new SequenceFormatException(source, null, $"cluster: {problems[0]}");
            }
            var steps = reader.Required(root, "steps", JsonValueKind.Array);
            var parsed = ImmutableArray.CreateBuilder<Step>();
            var index = 0;
            foreach (var element in steps.EnumerateArray())
            {
                parsed.Add(ReadStep(new SequenceFieldReader(source, index), element, config));
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
            Members = reader.OptionalInt(cluster, "members") ?? defaults.Members,
            Ttl = reader.OptionalInt(cluster, "ttl") ?? defaults.Ttl,
            LoopWait = reader.OptionalInt(cluster, "loop_wait") ?? defaults.LoopWait,
            RetryTimeout = reader.OptionalInt(cluster, "retry_timeout") ?? defaults.RetryTimeout,
            MaximumLagOnFailover = reader.OptionalLong(cluster, "maximum_lag_on_failover") ?? defaults.MaximumLagOnFailover,
            SynchronousMode = reader.OptionalSynchronousMode(cluster, "synchronous_mode") ?? defaults.SynchronousMode,
            PermanentSlots = reader.OptionalSlots(cluster, "permanent_slots") ?? defaults.PermanentSlots,
            IgnoreSlots = reader.OptionalSlots(cluster, "ignore_slots") ?? defaults.IgnoreSlots,
            Dcs = reader.OptionalString(cluster, "dcs") switch
            {
                null or "etcd" => DcsFlavor.Etcd,
                "etcd3" => DcsFlavor.Etcd3,
                var other => throw reader.Error($"cluster: dcs '{other}' is unknown (etcd or etcd3)"),
            },
            PostgresMajor = reader.OptionalInt(cluster, "postgres") ?? defaults.PostgresMajor,
            SynchronizedStandbySlots = reader.OptionalBool(cluster, "synchronized_standby_slots") ?? defaults.SynchronizedStandbySlots,
            InitialWal = reader.OptionalLsn(cluster, "initial_wal"),
        };
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
