using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace PatroniModel.Conformance.Campaigns;

/// <summary>How one sequence of a campaign ended.</summary>
public enum CampaignVerdict
{
    /// <summary>Model and reality agree on every step.</summary>
    Agree,

    /// <summary>They differ in at least one compared field.</summary>
    Disagree,

    /// <summary>Reality could not run it (the cluster did not come up or settle): neither agreement nor disagreement.</summary>
    Error,
}

/// <summary>
/// One sequence of a campaign: which one (index, replay string), what it was (steps, configuration), how it ended, where
/// the two sides first differed (the step, its kind, the compared fields), how long it took, and where its evidence is.
/// </summary>
/// <param name="Artifacts">The sequence's folder, relative to the campaign folder.</param>
/// <param name="Shrunk">For a disagreement shrunk on reality: the corpus-ready file (relative), its steps and the replays it took.</param>
public sealed record CampaignEntry(
    long Index,
    string Replay,
    int Steps,
    string Config,
    CampaignVerdict Verdict,
    int? Step,
    string? StepKind,
    ImmutableArray<string> Fields,
    ImmutableArray<string> Differences,
    string? Error,
    double Seconds,
    double BringUpSeconds,
    string Artifacts,
    ShrunkDisagreement? Shrunk = null)
{
    /// <summary>
    /// The compared field a difference line names, with member and slot names taken out so that differences of one kind
    /// count together: <c>pg2 state: model running, reality stopped</c> is <c>member state</c>;
    /// <c>reconcile s1 outcome: ...</c> is <c>reconcile outcome</c>; <c>reality: replica pg2 at ... is past leader ...</c>
    /// is <c>replica past leader</c>.
    /// </summary>
    public static string FieldOf(string difference)
    {
        var text = Regex.Replace(difference, "^(model|reality): ", "");
        text = text.StartsWith("replica ", StringComparison.Ordinal) ? "replica past leader" : text;
        text = text.StartsWith("reality's gap end", StringComparison.Ordinal) ? "reality's gap end past start" : text;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var field = colon < 0 ? text : text[..colon];
        field = Regex.Replace(field, @"\bpg\d+\b", "member");
        return Regex.Replace(field, @"\bs\d+\b", "").Replace("  ", " ", StringComparison.Ordinal).Trim();
    }
}

/// <summary>A disagreement shrunk on reality: the file written, its steps, and how many candidate replays it took.</summary>
public sealed record ShrunkDisagreement(string File, int Steps, int Replays, bool BudgetExhausted);
