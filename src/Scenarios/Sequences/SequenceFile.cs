using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>
/// Reads and writes sequence files, format <c>patroni-model/sequence@1</c> (documented in the README):
/// a JSON object with <c>format</c>, <c>description</c>, <c>origin</c>, <c>cluster</c> and <c>steps</c>, one step object per line.
/// Writing is canonical, so reading a written file and writing it again gives the same bytes.
/// Every read error is a <see cref="SequenceFormatException"/> naming the file, the step index and the reason.
/// </summary>
public static class SequenceFile
{
    public const string Format = "patroni-model/sequence@1";

    private static readonly string[] TopFields = ["format", "description", "origin", "cluster", "steps"];

    private static readonly string[] ClusterFields =
    [
        "members", "ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "synchronous_mode",
        "permanent_slots", "ignore_slots", "dcs", "postgres", "synchronized_standby_slots",
    ];

    private static readonly string[] PatchFields =
        ["permanent_slots", "ignore_slots", "ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "synchronous_mode"];

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

    public static void Save(Sequence sequence, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, Write(sequence), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    public static Sequence Parse(string json, string source = "<input>")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new SequenceFormatException(source, null, $"malformed JSON at line {(e.LineNumber ?? 0) + 1}: {FirstLine(e.Message)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SequenceFormatException(source, null, "the file must hold one JSON object");
            }
            var reader = new FieldReader(source, null);
            reader.RejectUnknown(root, TopFields, "top level");
            var format = reader.RequiredString(root, "format");
            if (format != Format)
            {
                throw new SequenceFormatException(source, null, $"format is '{format}', expected '{Format}'");
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
                parsed.Add(ReadStep(new FieldReader(source, index), element, config));
                index++;
            }
            return new Sequence(config, parsed.ToImmutable(), description, origin);
        }
    }

    /// <summary>Checks the steps against the configuration: members exist, slot names are valid. Returns the first problem.</summary>
    public static void Validate(Sequence sequence, string source = "<sequence>")
    {
        for (var i = 0; i < sequence.Steps.Length; i++)
        {
            var step = sequence.Steps[i];
            foreach (var member in step.Members)
            {
                if (!sequence.Config.HasMember(member))
                {
                    throw new SequenceFormatException(source, i, $"unknown member '{member}' (the cluster has {string.Join(", ", sequence.Config.MemberNames)})");
                }
            }
            if (step.Slot is { } slot && !SlotDefaults.IsValidSlotName(slot))
            {
                throw new SequenceFormatException(source, i, $"invalid slot name '{slot}' ({SlotDefaults.SlotNameRule})");
            }
        }
    }

    private static ClusterConfig ReadCluster(FieldReader reader, JsonElement cluster)
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
        };
    }

    private static Step ReadStep(FieldReader reader, JsonElement element, ClusterConfig config)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw reader.Error($"a step must be a JSON object, found {element.ValueKind.ToString().ToLowerInvariant()}");
        }
        var kind = reader.RequiredString(element, "kind");
        string Member(string field)
        {
            var name = reader.RequiredString(element, field);
            return config.HasMember(name)
                ? name
                : throw reader.Error($"unknown member '{name}' in '{field}' (the cluster has {string.Join(", ", config.MemberNames)})");
        }
        string Slot() => reader.SlotName(element, "slot");
        Step step = kind switch
        {
            StepKinds.CreateSlot => new CreateSlot(Slot(), reader.OptionalBool(element, "permanent") ?? false),
            StepKinds.DropSlot => new DropSlot(Slot()),
            StepKinds.Write => new Faults.Write(reader.RequiredPositiveInt(element, "rows")),
            StepKinds.Consume => new Consume(Slot()),
            StepKinds.AdvanceWal => new AdvanceWal(reader.RequiredPositiveLong(element, "bytes")),
            StepKinds.Checkpoint => new Checkpoint(),
            StepKinds.Switchover => new Switchover(Member("from"), element.TryGetProperty("to", out _) ? Member("to") : null),
            StepKinds.Failover => new Failover(Member("to")),
            StepKinds.Kill => new Kill(Member("member")),
            StepKinds.Start => new Start(Member("member")),
            StepKinds.Freeze => new Freeze(Member("member")),
            StepKinds.Thaw => new Thaw(Member("member")),
            StepKinds.Partition => new Partition(Member("member")),
            StepKinds.Heal => new Heal(Member("member")),
            StepKinds.Restart => new Restart(Member("member")),
            StepKinds.PatchConfig => new PatchConfig(ReadPatch(reader, element)),
            StepKinds.Reconcile => ReadReconcile(reader, element, Slot()),
            StepKinds.Settle => new Settle(),
            StepKinds.Wait => new Wait(reader.RequiredPositiveInt(element, "seconds")),
            _ => throw reader.Error($"unknown step kind '{kind}' (known: {string.Join(", ", StepKinds.All)})"),
        };
        reader.RejectUnknown(element, ["kind", .. StepFields(step)], $"step '{kind}'");
        return step;
    }

    private static Reconcile ReadReconcile(FieldReader reader, JsonElement element, string slot)
    {
        var lastConfirmed = reader.OptionalLsn(element, "last_confirmed");
        var timeline = reader.OptionalInt(element, "timeline");
        if (timeline is not null && lastConfirmed is null)
        {
            throw reader.Error("field 'timeline' needs 'last_confirmed'");
        }
        if (timeline is < 1)
        {
            throw reader.Error($"field 'timeline' must be >= 1, found {timeline}");
        }
        return new Reconcile(slot, lastConfirmed, timeline);
    }

    private static ConfigPatch ReadPatch(FieldReader reader, JsonElement element)
    {
        var patch = new ConfigPatch
        {
            PermanentSlots = reader.OptionalSlots(element, "permanent_slots"),
            IgnoreSlots = reader.OptionalSlots(element, "ignore_slots"),
            Ttl = reader.OptionalInt(element, "ttl"),
            LoopWait = reader.OptionalInt(element, "loop_wait"),
            RetryTimeout = reader.OptionalInt(element, "retry_timeout"),
            MaximumLagOnFailover = reader.OptionalLong(element, "maximum_lag_on_failover"),
            SynchronousMode = reader.OptionalSynchronousMode(element, "synchronous_mode"),
        };
        if (patch.ToString().Length == 0)
        {
            throw reader.Error($"patch-config changes nothing (set one of: {string.Join(", ", PatchFields)})");
        }
        return patch;
    }

    private static string[] StepFields(Step step) => step switch
    {
        CreateSlot => ["slot", "permanent"],
        DropSlot or Consume => ["slot"],
        Reconcile => ["slot", "last_confirmed", "timeline"],
        Faults.Write => ["rows"],
        AdvanceWal => ["bytes"],
        Switchover => ["from", "to"],
        Failover => ["to"],
        MemberStep => ["member"],
        PatchConfig => PatchFields,
        Wait => ["seconds"],
        _ => [],
    };

    /// <summary>The canonical text of a sequence file.</summary>
    public static string Write(Sequence sequence)
    {
        var c = sequence.Config;
        var b = new StringBuilder();
        b.Append("{\n");
        b.Append($"  \"format\": {Str(Format)},\n");
        b.Append($"  \"description\": {Str(sequence.Description)},\n");
        b.Append($"  \"origin\": {Str(sequence.Origin)},\n");
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
        var fields = new List<(string Name, string Json)> { ("kind", Str(step.Kind)) };
        switch (step)
        {
            case CreateSlot s:
                fields.Add(("slot", Str(s.SlotName)));
                if (s.Permanent)
                {
                    fields.Add(("permanent", "true"));
                }
                break;
            case DropSlot s:
                fields.Add(("slot", Str(s.SlotName)));
                break;
            case Consume s:
                fields.Add(("slot", Str(s.SlotName)));
                break;
            case Reconcile s:
                fields.Add(("slot", Str(s.SlotName)));
                if (s.LastConfirmed is { } lc)
                {
                    fields.Add(("last_confirmed", Str(lc.ToString())));
                }
                if (s.Timeline is { } tl)
                {
                    fields.Add(("timeline", Num(tl)));
                }
                break;
            case Faults.Write s:
                fields.Add(("rows", Num(s.Rows)));
                break;
            case AdvanceWal s:
                fields.Add(("bytes", Num(s.Bytes)));
                break;
            case Switchover s:
                fields.Add(("from", Str(s.From)));
                if (s.To is not null)
                {
                    fields.Add(("to", Str(s.To)));
                }
                break;
            case Failover s:
                fields.Add(("to", Str(s.To)));
                break;
            case MemberStep s:
                fields.Add(("member", Str(s.Member)));
                break;
            case Wait s:
                fields.Add(("seconds", Num(s.Seconds)));
                break;
            case PatchConfig { Patch: var p }:
                if (p.PermanentSlots is { } ps)
                {
                    fields.Add(("permanent_slots", StrArray(ps)));
                }
                if (p.IgnoreSlots is { } ig)
                {
                    fields.Add(("ignore_slots", StrArray(ig)));
                }
                if (p.Ttl is { } ttl)
                {
                    fields.Add(("ttl", Num(ttl)));
                }
                if (p.LoopWait is { } lw)
                {
                    fields.Add(("loop_wait", Num(lw)));
                }
                if (p.RetryTimeout is { } rt)
                {
                    fields.Add(("retry_timeout", Num(rt)));
                }
                if (p.MaximumLagOnFailover is { } lag)
                {
                    fields.Add(("maximum_lag_on_failover", Num(lag)));
                }
                if (p.SynchronousMode is { } sm)
                {
                    fields.Add(("synchronous_mode", Str(SynchronousModeNames.ToName(sm))));
                }
                break;
        }
        return "{" + string.Join(", ", fields.Select(f => $"{Str(f.Name)}: {f.Json}")) + "}";
    }

    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Str(string value) => JsonSerializer.Serialize(value, Readable);

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string StrArray(IEnumerable<string> values) => "[" + string.Join(", ", values.Select(Str)) + "]";

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    /// <summary>Typed field access that fails with the file, the step index and the field.</summary>
    private sealed class FieldReader(string source, int? stepIndex)
    {
        public SequenceFormatException Error(string reason) => new(source, stepIndex, reason);

        public void RejectUnknown(JsonElement element, IReadOnlyCollection<string> known, string where)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (!known.Contains(property.Name))
                {
                    throw Error($"{where}: unknown field '{property.Name}' (known: {string.Join(", ", known)})");
                }
            }
        }

        public JsonElement Required(JsonElement element, string name, JsonValueKind kind)
        {
            if (!element.TryGetProperty(name, out var value))
            {
                throw Error($"missing field '{name}'");
            }
            if (value.ValueKind != kind)
            {
                throw Error($"field '{name}' must be {Describe(kind)}, found {Describe(value.ValueKind)}");
            }
            return value;
        }

        public string RequiredString(JsonElement element, string name) => Required(element, name, JsonValueKind.String).GetString()!;

        public string? OptionalString(JsonElement element, string name) =>
            element.TryGetProperty(name, out _) ? RequiredString(element, name) : null;

        public bool? OptionalBool(JsonElement element, string name)
        {
            if (!element.TryGetProperty(name, out var value))
            {
                return null;
            }
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error($"field '{name}' must be true or false, found {Describe(value.ValueKind)}"),
            };
        }

        public long? OptionalLong(JsonElement element, string name)
        {
            if (!element.TryGetProperty(name, out _))
            {
                return null;
            }
            var value = Required(element, name, JsonValueKind.Number);
            return value.TryGetInt64(out var number) && number >= 0
                ? number
                : throw Error($"field '{name}' must be a whole number >= 0, found {value.GetRawText()}");
        }

        public int? OptionalInt(JsonElement element, string name)
        {
            var value = OptionalLong(element, name);
            return value is null ? null : value <= int.MaxValue ? (int)value : throw Error($"field '{name}' is too large: {value}");
        }

        public int RequiredPositiveInt(JsonElement element, string name)
        {
            Required(element, name, JsonValueKind.Number);
            var value = OptionalInt(element, name)!.Value;
            return value > 0 ? value : throw Error($"field '{name}' must be > 0, found {value}");
        }

        public long RequiredPositiveLong(JsonElement element, string name)
        {
            Required(element, name, JsonValueKind.Number);
            var value = OptionalLong(element, name)!.Value;
            return value > 0 ? value : throw Error($"field '{name}' must be > 0, found {value}");
        }

        public SynchronousMode? OptionalSynchronousMode(JsonElement element, string name)
        {
            var text = OptionalString(element, name);
            if (text is null)
            {
                return null;
            }
            return SynchronousModeNames.TryParse(text, out var mode)
                ? mode
                : throw Error($"field '{name}' is '{text}', expected off, on or strict");
        }

        public Lsn? OptionalLsn(JsonElement element, string name)
        {
            var text = OptionalString(element, name);
            if (text is null)
            {
                return null;
            }
            return Lsn.TryParse(text, out var lsn)
                ? lsn
                : throw Error($"field '{name}' is '{text}', not an LSN (X/Y in hex, e.g. 0/3000060)");
        }

        public string SlotName(JsonElement element, string name)
        {
            var slot = RequiredString(element, name);
            return SlotDefaults.IsValidSlotName(slot)
                ? slot
                : throw Error($"invalid slot name '{slot}' ({SlotDefaults.SlotNameRule})");
        }

        public ImmutableArray<string>? OptionalSlots(JsonElement element, string name)
        {
            if (!element.TryGetProperty(name, out _))
            {
                return null;
            }
            var array = Required(element, name, JsonValueKind.Array);
            var slots = ImmutableArray.CreateBuilder<string>();
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || !SlotDefaults.IsValidSlotName(item.GetString()))
                {
                    throw Error($"field '{name}' holds '{item.GetRawText()}', not a valid slot name ({SlotDefaults.SlotNameRule})");
                }
                slots.Add(item.GetString()!);
            }
            return slots.ToImmutable();
        }

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "true or false",
            JsonValueKind.Null => "null",
            _ => kind.ToString().ToLowerInvariant(),
        };
    }
}
