using System.Collections.Immutable;
using System.Text.Json;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>
/// One step kind as sequence files write it: its fields in canonical order, how to read the step from a step object and
/// how to write its fields (the <c>kind</c> field comes first and is not listed).
/// </summary>
internal sealed record StepSchemaEntry(
    string Kind,
    ImmutableArray<string> Fields,
    Func<StepObjectReader, Step> Read,
    Func<Step, IEnumerable<(string Name, string Json)>> Write);

/// <summary>
/// The table of step kinds and their fields that drives <see cref="SequenceFileReader"/> and <see cref="SequenceFileWriter"/>
/// (a new step kind is one row here; the README's "new step kind" checklist lists the rest).
/// </summary>
internal static class StepSchema
{
    private static readonly ImmutableArray<string> SlotField = ["slot"];
    private static readonly ImmutableArray<string> MemberField = ["member"];

    public static ImmutableArray<StepSchemaEntry> All { get; } =
    [
        new(StepKinds.CreateSlot, ["slot", "permanent"],
            r => new CreateSlot(r.Slot(), r.Fields.OptionalBool(r.Element, "permanent") ?? false),
            s => s is CreateSlot { Permanent: true } c ? [("slot", Json.Str(c.SlotName)), ("permanent", "true")] : [("slot", Json.Str(s.Slot!))]),
        new(StepKinds.DropSlot, SlotField, r => new DropSlot(r.Slot()), s => [("slot", Json.Str(s.Slot!))]),
        new(StepKinds.Write, ["rows"], r => new Faults.Write(r.Fields.RequiredInt(r.Element, "rows", 1, SequenceBounds.MaxRowsPerWrite)), s => [("rows", Json.Num(((Faults.Write)s).Rows))]),
        new(StepKinds.Consume, SlotField, r => new Consume(r.Slot()), s => [("slot", Json.Str(s.Slot!))]),
        new(StepKinds.AdvanceWal, ["bytes"], r => new AdvanceWal(r.Fields.RequiredLong(r.Element, "bytes", 1, SequenceBounds.MaxAdvanceWalBytes)), s => [("bytes", Json.Num(((AdvanceWal)s).Bytes))]),
        new(StepKinds.Checkpoint, [], _ => new Checkpoint(), _ => []),
        new(StepKinds.Switchover, ["from", "to"],
            r => new Switchover(r.Member("from"), r.Element.TryGetProperty("to", out _) ? r.Member("to") : null),
            s => s is Switchover { To: { } to } sw ? [("from", Json.Str(sw.From)), ("to", Json.Str(to))] : [("from", Json.Str(((Switchover)s).From))]),
        new(StepKinds.Failover, ["to"], r => new Failover(r.Member("to")), s => [("to", Json.Str(((Failover)s).To))]),
        Member(StepKinds.Kill, m => new Kill(m)),
        Member(StepKinds.Start, m => new Start(m)),
        Member(StepKinds.Freeze, m => new Freeze(m)),
        Member(StepKinds.Thaw, m => new Thaw(m)),
        Member(StepKinds.Partition, m => new Partition(m)),
        Member(StepKinds.Heal, m => new Heal(m)),
        Member(StepKinds.Restart, m => new Restart(m)),
        new(StepKinds.PatchConfig, ConfigPatchFields.Names, r => new PatchConfig(ReadPatch(r)), s => WritePatch(((PatchConfig)s).Patch)),
        new(StepKinds.Reconcile, ["slot", "last_confirmed", "timeline"], ReadReconcile, WriteReconcile),
        new(StepKinds.Settle, [], _ => new Settle(), _ => []),
        new(StepKinds.Wait, ["seconds"], r => new Wait(r.Fields.RequiredInt(r.Element, "seconds", 1, SequenceBounds.MaxWaitSeconds)), s => [("seconds", Json.Num(((Wait)s).Seconds))]),
    ];

    private static readonly Dictionary<string, StepSchemaEntry> ByKind = All.ToDictionary(e => e.Kind, StringComparer.Ordinal);

    /// <summary>The entry for <paramref name="kind"/>, or null for a kind sequence files do not know.</summary>
    public static StepSchemaEntry? Find(string kind) => ByKind.GetValueOrDefault(kind);

    private static StepSchemaEntry Member(string kind, Func<string, Step> make) =>
        new(kind, MemberField, r => make(r.Member("member")), s => [("member", Json.Str(((MemberStep)s).Member))]);

    private static Reconcile ReadReconcile(StepObjectReader r)
    {
        var slot = r.Slot();
        var lastConfirmed = r.Fields.OptionalLsn(r.Element, "last_confirmed");
        var timeline = r.Fields.OptionalInt(r.Element, "timeline", 1, SequenceBounds.MaxTimeline);
        if (timeline is not null && lastConfirmed is null)
        {
            throw r.Fields.Error("field 'timeline' needs 'last_confirmed'");
        }
        return new Reconcile(slot, lastConfirmed, timeline);
    }

    private static IEnumerable<(string, string)> WriteReconcile(Step step)
    {
        var s = (Reconcile)step;
        yield return ("slot", Json.Str(s.SlotName));
        if (s.LastConfirmed is { } lc)
        {
            yield return ("last_confirmed", Json.Str(lc.ToString()));
        }
        if (s.Timeline is { } tl)
        {
            yield return ("timeline", Json.Num(tl));
        }
    }

    private static ConfigPatch ReadPatch(StepObjectReader r)
    {
        var patch = new ConfigPatch();
        foreach (var field in ConfigPatchFields.All)
        {
            object? value = field.Kind switch
            {
                PatchValueKind.Slots => r.Fields.OptionalSlots(r.Element, field.Name),
                PatchValueKind.Int => r.Fields.OptionalInt(r.Element, field.Name, (int)field.Min, (int)field.Max),
                PatchValueKind.Long => r.Fields.OptionalLong(r.Element, field.Name, field.Min, field.Max),
                PatchValueKind.SynchronousMode => r.Fields.OptionalSynchronousMode(r.Element, field.Name),
                _ => throw new InvalidOperationException($"patch field kind {field.Kind}"),
            };
            if (value is not null)
            {
                patch = field.Set(patch, value);
            }
        }
        // A misspelt field is named, not reported as a patch that changes nothing.
        r.Fields.RejectUnknown(r.Element, ["kind", .. ConfigPatchFields.Names], $"step '{StepKinds.PatchConfig}'");
        if (patch.ToString().Length == 0)
        {
            throw r.Fields.Error($"patch-config changes nothing (set one of: {string.Join(", ", ConfigPatchFields.Names)})");
        }
        return patch;
    }

    private static IEnumerable<(string, string)> WritePatch(ConfigPatch patch)
    {
        foreach (var field in ConfigPatchFields.All)
        {
            var json = field.Get(patch) switch
            {
                null => null,
                ImmutableArray<string> slots => Json.StrArray(slots),
                SynchronousMode mode => Json.Str(SynchronousModeNames.ToName(mode)),
                int n => Json.Num(n),
                long n => Json.Num(n),
                var other => throw new InvalidOperationException($"patch field {field.Name} holds {other}"),
            };
            if (json is not null)
            {
                yield return (field.Name, json);
            }
        }
    }
}

/// <summary>A step object being read: the field reader (file and step index for errors), the object and the cluster.</summary>
internal sealed record StepObjectReader(SequenceFieldReader Fields, JsonElement Element, ClusterConfig Config)
{
    /// <summary>A member name in <paramref name="field"/>, which the cluster must have.</summary>
    public string Member(string field)
    {
        var name = Fields.RequiredString(Element, field);
        return Config.HasMember(name)
            ? name
            : throw Fields.Error($"unknown member '{name}' in '{field}' (the cluster has {string.Join(", ", Config.MemberNames)})");
    }

    /// <summary>The <c>slot</c> field, a valid slot name.</summary>
    public string Slot() => Fields.SlotName(Element, "slot");
}
