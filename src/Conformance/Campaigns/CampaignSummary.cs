using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PatroniModel.Exploration.Exploring;

namespace PatroniModel.Conformance.Campaigns;

/// <summary>
/// The machine-readable result of a conformance campaign or one shard of it (<c>summary.json</c>,
/// <c>patroni-model/conform-summary@1</c>): the run it belongs to (seed, run count, family, shard), one entry per sequence
/// run, and the figures derived from them. <see cref="Merge"/> makes one summary of a whole run from its shards; the
/// entries are sorted by index, so a merged summary of two shards equals a one-process summary of the same seed and count
/// except for the times.
/// </summary>
public sealed record CampaignSummary(
    string Seed, int Runs, SequenceFamily Family, Shard Shard, string Profile, ImmutableArray<CampaignEntry> Entries,
    double ElapsedSeconds, bool Stopped)
{
    public const string Format = "patroni-model/conform-summary@1";

    public const string FileName = "summary.json";

    public int Agreed => Entries.Count(e => e.Verdict == CampaignVerdict.Agree);

    public int Disagreed => Entries.Count(e => e.Verdict == CampaignVerdict.Disagree);

    public int Errors => Entries.Count(e => e.Verdict == CampaignVerdict.Error);

    /// <summary>Agreed sequences over all sequences run (an error counts against it); 0 when none ran.</summary>
    public double AgreementRate => Entries.IsEmpty ? 0 : (double)Agreed / Entries.Length;

    /// <summary>Disagreements by the kind of the step where the sides first differed.</summary>
    public ImmutableSortedDictionary<string, int> ByStepKind =>
        Entries.Where(e => e.Verdict == CampaignVerdict.Disagree && e.StepKind is not null)
            .GroupBy(e => e.StepKind!).ToImmutableSortedDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Disagreements by compared field (a sequence differing in two fields counts in both).</summary>
    public ImmutableSortedDictionary<string, int> ByField =>
        Entries.Where(e => e.Verdict == CampaignVerdict.Disagree).SelectMany(e => e.Fields.Distinct())
            .GroupBy(f => f).ToImmutableSortedDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public double MeanSeconds => Entries.IsEmpty ? 0 : Entries.Average(e => e.Seconds);

    public double MedianSeconds
    {
        get
        {
            if (Entries.IsEmpty)
            {
                return 0;
            }
            var sorted = Entries.Select(e => e.Seconds).Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    public double BringUpSeconds => Entries.Sum(e => e.BringUpSeconds);

    /// <summary>The exact command that repeats this campaign (or shard).</summary>
    public string Command() =>
        $"patroni-model conform --seed {Seed} --runs {Runs.ToString(CultureInfo.InvariantCulture)}{CampaignSequences.FamilySuffix(Family)}{(Shard.Count > 1 ? $" --shard {Shard}" : "")}";

    /// <summary><c>agreed 48 of 50 (96.0%), 2 disagreed, 0 errors</c>.</summary>
    public string Counts() => string.Create(CultureInfo.InvariantCulture,
        $"agreed {Agreed} of {Entries.Length} ({AgreementRate * 100:0.0}%), {Disagreed} disagreed, {Errors} errors{(Stopped ? " (stopped early)" : "")}");

    public string ToJson()
    {
        static JsonObject Counted(IEnumerable<KeyValuePair<string, int>> counts)
        {
            var o = new JsonObject();
            foreach (var (key, value) in counts)
            {
                o[key] = value;
            }
            return o;
        }
        var json = new JsonObject
        {
            ["format"] = Format,
            ["seed"] = Seed,
            ["runs"] = Runs,
            ["family"] = FamilyName(Family),
            ["shard"] = Shard.ToString(),
            ["profile"] = Profile,
            ["command"] = Command(),
            ["stopped"] = Stopped,
            ["elapsed_s"] = Math.Round(ElapsedSeconds, 1),
            ["sequences"] = Entries.Length,
            ["agreed"] = Agreed,
            ["disagreed"] = Disagreed,
            ["errors"] = Errors,
            ["agreement_rate"] = Math.Round(AgreementRate, 4),
            ["seconds_per_sequence_mean"] = Math.Round(MeanSeconds, 1),
            ["seconds_per_sequence_median"] = Math.Round(MedianSeconds, 1),
            ["bring_up_s_total"] = Math.Round(BringUpSeconds, 1),
            ["disagreements_by_step_kind"] = Counted(ByStepKind),
            ["disagreements_by_field"] = Counted(ByField),
            ["entries"] = new JsonArray([.. Entries.Select(EntryJson)]),
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonNode EntryJson(CampaignEntry e) => new JsonObject
    {
        ["index"] = e.Index,
        ["replay"] = e.Replay,
        ["steps"] = e.Steps,
        ["config"] = e.Config,
        ["verdict"] = e.Verdict.ToString().ToLowerInvariant(),
        ["step"] = e.Step,
        ["step_kind"] = e.StepKind,
        ["fields"] = new JsonArray([.. e.Fields.Select(f => (JsonNode)JsonValue.Create(f))]),
        ["differences"] = new JsonArray([.. e.Differences.Select(d => (JsonNode)JsonValue.Create(d))]),
        ["error"] = e.Error,
        ["seconds"] = Math.Round(e.Seconds, 1),
        ["bring_up_s"] = Math.Round(e.BringUpSeconds, 1),
        ["artifacts"] = e.Artifacts,
        ["shrunk"] = e.Shrunk is not { } s ? null : new JsonObject
        {
            ["file"] = s.File,
            ["steps"] = s.Steps,
            ["replays"] = s.Replays,
            ["budget_exhausted"] = s.BudgetExhausted,
        },
    };

    public static string FamilyName(SequenceFamily family) => family == SequenceFamily.FailoverSlots ? "postgres 17" : "default";

    /// <summary>Reads a summary.json; a malformed one is an <see cref="InvalidDataException"/> naming the file and the field.</summary>
    public static CampaignSummary Load(string path)
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
        if (node is not JsonObject o || (o["format"] as JsonValue)?.TryGetValue<string>(out var format) != true || format != Format)
        {
            throw new InvalidDataException($"{path}: not a {Format} file");
        }
        T Field<T>(JsonObject source, string name) =>
            source[name] is JsonValue v && v.TryGetValue<T>(out var value) ? value : throw new InvalidDataException($"{path}: field '{name}' is missing or not a {typeof(T).Name}");
        T? Optional<T>(JsonObject source, string name) where T : struct =>
            source[name] is null ? null : Field<T>(source, name);
        string? OptionalText(JsonObject source, string name) => source[name] is null ? null : Field<string>(source, name);
        ImmutableArray<string> Texts(JsonObject source, string name) =>
            source[name] is JsonArray a ? [.. a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var t) ? t : throw new InvalidDataException($"{path}: field '{name}' holds a non-text"))]
                : throw new InvalidDataException($"{path}: field '{name}' is missing or not a list");
        var family = Field<string>(o, "family") switch
        {
            "default" => SequenceFamily.Default,
            "postgres 17" => SequenceFamily.FailoverSlots,
            var other => throw new InvalidDataException($"{path}: field 'family' is '{other}', not 'default' or 'postgres 17'"),
        };
        var shard = Shard.TryParse(Field<string>(o, "shard")) ?? throw new InvalidDataException($"{path}: field 'shard' is not i/n");
        var entries = o["entries"] is JsonArray list ? list : throw new InvalidDataException($"{path}: field 'entries' is missing or not a list");
        var parsed = entries.Select(x =>
        {
            var e = x as JsonObject ?? throw new InvalidDataException($"{path}: an entry is not an object");
            var verdict = Enum.TryParse<CampaignVerdict>(Field<string>(e, "verdict"), ignoreCase: true, out var v)
                ? v : throw new InvalidDataException($"{path}: entry {e["index"]}: verdict is not agree, disagree or error");
            ShrunkDisagreement? shrunk = e["shrunk"] is JsonObject s
                ? new ShrunkDisagreement(Field<string>(s, "file"), Field<int>(s, "steps"), Field<int>(s, "replays"), Field<bool>(s, "budget_exhausted"))
                : null;
            return new CampaignEntry(
                Field<long>(e, "index"), Field<string>(e, "replay"), Field<int>(e, "steps"), Field<string>(e, "config"), verdict,
                Optional<int>(e, "step"), OptionalText(e, "step_kind"), Texts(e, "fields"), Texts(e, "differences"), OptionalText(e, "error"),
                Field<double>(e, "seconds"), Field<double>(e, "bring_up_s"), Field<string>(e, "artifacts"), shrunk);
        });
        return new CampaignSummary(Field<string>(o, "seed"), Field<int>(o, "runs"), family, shard, Field<string>(o, "profile"),
            [.. parsed], Field<double>(o, "elapsed_s"), Field<bool>(o, "stopped"));
    }

    /// <summary>
    /// One summary of a whole campaign from all of its shards (each given once, all of one seed, count and family): the
    /// entries of every shard by index, the slowest shard's time as the elapsed time, stopped if any shard stopped.
    /// Artifact paths are made relative to <paramref name="root"/> when given (each shard's folder is named in
    /// <paramref name="folders"/>, in the order of <paramref name="shards"/>).
    /// </summary>
    public static CampaignSummary Merge(IReadOnlyList<CampaignSummary> shards, IReadOnlyList<string>? folders = null, string? root = null)
    {
        if (shards.Count == 0)
        {
            throw new InvalidDataException("no summary to merge");
        }
        var first = shards[0];
        foreach (var s in shards)
        {
            if (s.Seed != first.Seed || s.Runs != first.Runs || s.Family != first.Family || s.Shard.Count != first.Shard.Count)
            {
                throw new InvalidDataException(
                    $"shard {s.Shard} is of another campaign (seed {s.Seed}, runs {s.Runs}, {FamilyName(s.Family)}, {s.Shard.Count} shards) than shard {first.Shard} (seed {first.Seed}, runs {first.Runs}, {FamilyName(first.Family)}, {first.Shard.Count} shards)");
            }
        }
        if (shards.GroupBy(s => s.Shard.Index).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidDataException($"shard {twice.First().Shard} is given twice");
        }
        var missing = Enumerable.Range(0, first.Shard.Count).Where(i => shards.All(s => s.Shard.Index != i)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"missing shards {string.Join(", ", missing.Select(i => $"{i}/{first.Shard.Count}"))} of {first.Shard.Count}");
        }
        string Relocated(int shard, string path) =>
            folders is null || root is null ? path : Path.GetRelativePath(root, Path.Combine(folders[shard], path));
        var entries = shards.SelectMany((s, i) => s.Entries.Select(e => e with
        {
            Artifacts = Relocated(i, e.Artifacts),
            Shrunk = e.Shrunk is { } shrunk ? shrunk with { File = Relocated(i, shrunk.File) } : null,
        })).OrderBy(e => e.Index);
        return new CampaignSummary(first.Seed, first.Runs, first.Family, Shard.Whole, first.Profile, [.. entries],
            shards.Max(s => s.ElapsedSeconds), shards.Any(s => s.Stopped));
    }
}
