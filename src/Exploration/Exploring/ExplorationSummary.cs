using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PatroniModel.Exploration.Exploring;

/// <summary>The first failure of a slice: where it is in the run, what failed, and how to replay it.</summary>
public sealed record ExplorationFailure(long Index, string Property, string Message, string Replay, int ShrunkSteps, string? SequenceFile);

/// <summary>
/// The machine-readable result of one exploration or one shard of it (<c>summary.json</c>,
/// <c>patroni-model/explore-summary@1</c>): the run it belongs to (seed, run count, generator), the slice, the counts and
/// the first failure. <see cref="Merge"/> makes the verdict of the whole run from its shards.
/// </summary>
public sealed record ExplorationSummary(
    string Seed, int Runs, string Generator, Shard Shard, int Workers, long Sequences, long Steps, long VirtualMilliseconds,
    double ElapsedSeconds, bool Stopped, ExplorationFailure? Failure)
{
    public const string Format = "patroni-model/explore-summary@1";

    public const string FileName = "summary.json";

    public static ExplorationSummary From(ExplorationReport report, string generator, string? sequenceFile = null) => new(
        report.Settings.SeedText, report.Settings.Runs, generator, report.Settings.Slice, report.Settings.Workers, report.Sequences,
        report.Steps, report.VirtualMilliseconds, report.Elapsed.TotalSeconds, report.Stopped,
        report.Failure is { } f && report.FailureIndex is { } index
            ? new ExplorationFailure(index, f.Shrunk.Violation!.Label, f.Shrunk.Violation.Message, f.Replay ?? "", f.Shrunk.Sequence.Steps.Length, sequenceFile)
            : null);

    /// <summary>The exact command that repeats this slice.</summary>
    public string Command() =>
        $"patroni-model explore --seed {Seed} --runs {Runs}{SequenceFamilyNames.FlagsOfGenerator(Generator)}{(Shard.Count > 1 ? $" --shard {Shard}" : "")}";

    /// <summary><c>explored N sequences (M steps), K failures</c>: the counts only, equal for equal runs whatever the workers.</summary>
    public string Counts() => string.Create(CultureInfo.InvariantCulture, $"explored {Sequences} sequences ({Steps} steps), {(Failure is null ? 0 : 1)} failures");

    public string ToJson()
    {
        var json = new JsonObject
        {
            ["format"] = Format,
            ["seed"] = Seed,
            ["runs"] = Runs,
            ["generator"] = Generator,
            ["shard"] = Shard.ToString(),
            ["workers"] = Workers,
            ["sequences"] = Sequences,
            ["steps"] = Steps,
            ["virtual_ms"] = VirtualMilliseconds,
            ["elapsed_s"] = Math.Round(ElapsedSeconds, 3),
            ["stopped"] = Stopped,
            ["command"] = Command(),
            ["failure"] = Failure is not { } f ? null : new JsonObject
            {
                ["index"] = f.Index,
                ["property"] = f.Property,
                ["message"] = f.Message,
                ["replay"] = f.Replay,
                ["shrunk_steps"] = f.ShrunkSteps,
                ["sequence"] = f.SequenceFile,
            },
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads a summary.json; a malformed one is an <see cref="InvalidDataException"/> naming the file and the field.</summary>
    public static ExplorationSummary Load(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not JSON ({e.Message.Split('.')[0]})");
        }
        if (node is not JsonObject o || o["format"]?.GetValue<string>() != Format)
        {
            throw new InvalidDataException($"{path}: not a {Format} file");
        }
        T Field<T>(JsonObject source, string name) =>
            source[name] is JsonValue v && v.TryGetValue<T>(out var value) ? value : throw new InvalidDataException($"{path}: field '{name}' is missing or not a {typeof(T).Name}");
        var seed = Field<string>(o, "seed");
        var runs = Field<int>(o, "runs");
        var generator = Field<string>(o, "generator");
        var shard = Shard.TryParse(Field<string>(o, "shard")) ?? throw new InvalidDataException($"{path}: field 'shard' is not i/n");
        ExplorationFailure? failure = null;
        if (o["failure"] is JsonObject f)
        {
            failure = new ExplorationFailure(Field<long>(f, "index"), Field<string>(f, "property"), Field<string>(f, "message"),
                Field<string>(f, "replay"), Field<int>(f, "shrunk_steps"), f["sequence"]?.GetValue<string>());
        }
        return new ExplorationSummary(seed, runs, generator, shard,
            Field<int>(o, "workers"), Field<long>(o, "sequences"), Field<long>(o, "steps"), Field<long>(o, "virtual_ms"),
            Field<double>(o, "elapsed_s"), Field<bool>(o, "stopped"), failure);
    }

    /// <summary>
    /// The verdict of a whole run from all of its shards: the shards in order up to and including the first one with a
    /// failure (a single run stops at its first failure), so the counts and the failure equal those of one run of the
    /// same seed and count. Shards past that failure are reported in <see cref="MergedExploration.Beyond"/>.
    /// </summary>
    public static MergedExploration Merge(IReadOnlyList<ExplorationSummary> shards)
    {
        if (shards.Count == 0)
        {
            throw new InvalidDataException("no summary to merge");
        }
        var first = shards[0];
        foreach (var s in shards)
        {
            if (s.Seed != first.Seed || s.Runs != first.Runs || s.Generator != first.Generator || s.Shard.Count != first.Shard.Count)
            {
                throw new InvalidDataException(
                    $"shard {s.Shard} is of another run (seed {s.Seed}, runs {s.Runs}, {s.Generator}, {s.Shard.Count} shards) than shard {first.Shard} (seed {first.Seed}, runs {first.Runs}, {first.Generator}, {first.Shard.Count} shards)");
            }
        }
        var byIndex = shards.GroupBy(s => s.Shard.Index).ToDictionary(g => g.Key, g => g.ToList());
        if (byIndex.Values.FirstOrDefault(g => g.Count > 1) is { } twice)
        {
            throw new InvalidDataException($"shard {twice[0].Shard} is given twice");
        }
        var missing = Enumerable.Range(0, first.Shard.Count).Where(i => !byIndex.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"missing shards {string.Join(", ", missing.Select(i => $"{i}/{first.Shard.Count}"))} of {first.Shard.Count}");
        }
        var ordered = byIndex.OrderBy(p => p.Key).Select(p => p.Value[0]).ToImmutableArray();
        var counted = ImmutableArray.CreateBuilder<ExplorationSummary>();
        foreach (var s in ordered)
        {
            counted.Add(s);
            if (s.Failure is not null || s.Stopped)
            {
                break;
            }
        }
        var included = counted.ToImmutable();
        var last = included[^1];
        return new MergedExploration(first.Seed, first.Runs, first.Generator, first.Shard.Count,
            included.Sum(s => s.Sequences), included.Sum(s => s.Steps), included.Max(s => s.ElapsedSeconds),
            last.Stopped, last.Failure, [.. ordered.Skip(included.Length)]);
    }
}

/// <summary>The verdict of a sharded run.</summary>
/// <param name="Beyond">Shards after the first failure (or stop): explored, but not part of one run's verdict.</param>
public sealed record MergedExploration(
    string Seed, int Runs, string Generator, int Shards, long Sequences, long Steps, double SlowestShardSeconds, bool Stopped,
    ExplorationFailure? Failure, ImmutableArray<ExplorationSummary> Beyond)
{
    public string Counts() => string.Create(CultureInfo.InvariantCulture, $"explored {Sequences} sequences ({Steps} steps), {(Failure is null ? 0 : 1)} failures");
}
