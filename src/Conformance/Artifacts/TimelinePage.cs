using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>
/// <c>timeline.html</c>: one self-contained page (inline CSS and SVG, no script, no external file) for a sequence run on
/// the model, on reality or on both: the cluster's configuration, the verdict, and per side a chart on that side's own
/// time scale (the model's virtual seconds, reality's wall-clock seconds) with a lane per member (leader / replica /
/// frozen / stopped / partitioned), a lane per slot saying which member holds it, the reconciler's outcomes, the
/// disagreements, and below them each member's WAL position, the slots' and the consumer's confirmed positions and the
/// gaps, phantoms and duplicates the reconciler reported as shaded bands with their size. Then the steps, with runs of
/// steps that change nothing visible condensed to one line (<see cref="StepRuns"/>).
/// </summary>
public static partial class TimelinePage
{
    public static string Render(Sequence sequence, SideHistory model, SideHistory? reality = null, IReadOnlyList<StepComparison>? comparisons = null)
    {
        var sides = reality is null ? new[] { model } : [model, reality];
        var runs = StepRuns.Condense(sequence.Steps.Length, sides, comparisons);
        var slots = SlotNames(sequence, sides);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>patroni-model timeline: ")
            .Append(E(Title(sequence))).Append("</title>\n<style>\n").Append(Style).Append("\n</style></head><body>\n");
        html.Append("<h1>").Append(E(Title(sequence))).Append("</h1>\n");
        if (sequence.Origin.Length > 0)
        {
            html.Append("<p>origin: <code>").Append(E(sequence.Origin)).Append("</code></p>\n");
        }
        AppendVerdict(html, sequence, comparisons);
        AppendConfiguration(html, sequence);
        AppendLegend(html);
        foreach (var side in sides)
        {
            AppendChart(html, sequence, side, comparisons, runs, slots);
        }
        AppendSteps(html, sequence, model, reality, comparisons, runs, slots);
        html.Append("<p class=\"small\">Every step with its observations: <a href=\"history.txt\">history.txt</a>, ")
            .Append("<a href=\"history.jsonl\">history.jsonl</a>; the sequence: <a href=\"sequence.json\">sequence.json</a>.</p>\n");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
        h1{font-size:1.25em} h2{font-size:1.1em;margin-top:1.6em}
        table{border-collapse:collapse;font-size:12px;margin:.4em 0}
        th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}
        td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
        .small{color:#555;font-size:12px} code,.mono{font-family:ui-monospace,monospace}
        .legend span{display:inline-block;padding:1px 8px;margin:0 4px 4px 0;font-size:12px}
        .leader{background:#2e7d32;color:#fff} .replica{background:#90caf9} .unknown{background:#e0e0e0}
        .frozen{background:#ce93d8} .stopped{background:#757575;color:#fff} .partitioned{background:#ffb74d}
        .slot-held{background:#b3e5fc} .slot-dropped{background:#ef5350;color:#fff} .slot-none{background:#f5f5f5}
        td.gap,td.ahead,td.phantom{background:#ef9a9a} td.ok{background:#c8e6c9} td.warn{background:#fff59d} td.err{background:#e57373;color:#fff}
        td.refused{background:#ffe0b2} td.quiet{color:#555;background:#fafafa;font-style:italic} td.busy{background:#f3f3f3;font-style:italic}
        td.disagree,p.disagree{background:#d32f2f;color:#fff} td.agree{background:#e8f5e9} p.agree{background:#c8e6c9;padding:6px}
        p.disagree{padding:6px} p.disagree a{color:#fff}
        .change{display:block;color:#444;font-size:11px} td.disagree .change{color:#fff}
        svg{display:block;width:100%;height:auto;border:1px solid #eee;background:#fff}
        svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#222}
        svg text.lane{font-weight:bold;text-anchor:end}
        svg text.tick{fill:#555;font-size:10px}
        svg text.in{font-size:10px;pointer-events:none}
        svg text.light{fill:#fff}
        svg text.halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
        svg .grid{stroke:#eee;stroke-width:1}
        svg rect.leader{fill:#2e7d32} svg rect.replica{fill:#90caf9} svg rect.unknown{fill:#e0e0e0}
        svg rect.frozen{fill:#ce93d8} svg rect.stopped{fill:#757575} svg rect.partitioned{fill:#ffb74d}
        svg rect.slot-held{fill:#b3e5fc} svg rect.slot-dropped{fill:#ef5350} svg rect.slot-none{fill:#f5f5f5}
        svg rect.quiet{fill:#eeeeee} svg rect.mixed{fill:#9e9e9e}
        svg path.fault{fill:#d32f2f;stroke:#fff;stroke-width:.8}
        svg rect.r-ok{fill:#43a047} svg rect.r-warn{fill:#fbc02d} svg rect.r-gap,svg rect.r-ahead{fill:#e53935} svg rect.r-phantom{fill:#8e24aa} svg rect.r-err{fill:#424242}
        svg rect.disagree{fill:#d32f2f} svg line.disagree{stroke:#d32f2f;stroke-width:1;stroke-dasharray:3 3}
        svg rect.band{stroke-width:1;stroke-dasharray:4 2} svg rect.band.faint{fill-opacity:.08;stroke:none}
        svg rect.gap{fill:#e53935;fill-opacity:.3;stroke:#c62828} svg rect.phantom{fill:#8e24aa;fill-opacity:.3;stroke:#6a1b9a}
        svg rect.duplicates{fill:#fbc02d;fill-opacity:.25;stroke:#f9a825}
        svg polyline{fill:none;stroke-linejoin:round}
        svg polyline.member{stroke-width:2} svg polyline.slot{stroke-width:1.6;stroke-dasharray:6 3} svg polyline.consumer{stroke:#111;stroke-width:2.2;stroke-dasharray:1.5 2.5}
        """;

    private static string Title(Sequence sequence) => sequence.Description.Length > 0 ? sequence.Description : "fault sequence";

    private static void AppendVerdict(StringBuilder html, Sequence sequence, IReadOnlyList<StepComparison>? comparisons)
    {
        if (comparisons is null or { Count: 0 })
        {
            return;
        }
        var disagreements = comparisons.Where(c => !c.Agrees).ToList();
        if (disagreements.Count == 0)
        {
            html.Append("<p class=\"agree\" id=\"verdict\">model and reality agree on all ").Append(N(comparisons.Count)).Append(" steps</p>\n");
            return;
        }
        html.Append("<p class=\"disagree\" id=\"verdict\">model and reality DISAGREE on ").Append(N(disagreements.Count)).Append(" of ")
            .Append(N(comparisons.Count)).Append(" steps, first at step ").Append(disagreements[0].Index).Append(":<br>\n");
        foreach (var d in disagreements.Take(20))
        {
            html.Append("<a href=\"#step-").Append(d.Index).Append("\">step ").Append(d.Index).Append(" (")
                .Append(E(StepText(sequence, d.Index))).Append(")</a>: ").Append(E(string.Join("; ", d.Differences))).Append("<br>\n");
        }
        if (disagreements.Count > 20)
        {
            html.Append("and ").Append(N(disagreements.Count - 20)).Append(" more, in the steps below<br>\n");
        }
        html.Append("</p>\n");
    }

    private static void AppendConfiguration(StringBuilder html, Sequence sequence)
    {
        var c = sequence.Config;
        static string Slots(ImmutableArray<string> slots) => slots.IsDefaultOrEmpty ? "none" : string.Join(", ", slots);
        var rows = new List<(string Name, string Value)>
        {
            ("members", string.Join(", ", c.MemberNames)),
            ("PostgreSQL", c.FailoverSlots ? $"{c.PostgresMajor} (failover slots, synced to the standbys)" : c.PostgresMajor.ToString(CultureInfo.InvariantCulture)),
            ("DCS", c.Dcs == DcsFlavor.Etcd3 ? "etcd3 (v3 API)" : "etcd (v2 API)"),
            ("synchronous_mode", SynchronousModeNames.ToName(c.SynchronousMode)),
            ("permanent_slots", Slots(c.PermanentSlots)),
            ("ignore_slots", Slots(c.IgnoreSlots)),
            ("ttl / loop_wait / retry_timeout", $"{c.Ttl} s / {c.LoopWait} s / {c.RetryTimeout} s{(c.Timings == new PatroniTimings(c.Ttl, c.LoopWait, c.RetryTimeout) ? "" : $" (Patroni runs {c.Timings.Ttl} s / {c.Timings.LoopWait} s / {c.Timings.RetryTimeout} s)")}"),
            ("maximum_lag_on_failover", $"{N(c.MaximumLagOnFailover)} B"),
        };
        if (c.FailoverSlots)
        {
            rows.Add(("synchronized_standby_slots", c.SynchronizedStandbySlots ? "every other member's physical slot" : "off"));
        }
        var patches = sequence.Steps.Select((s, i) => (Step: s, Index: i)).Where(p => p.Step is PatchConfig).ToList();
        if (patches.Count > 0)
        {
            rows.Add(("changed by", string.Join("; ", patches.Take(20).Select(p => $"step {p.Index}: {p.Step}"))
                                    + (patches.Count > 20 ? $"; and {patches.Count - 20} more" : "")));
        }
        html.Append("<h2>cluster configuration</h2>\n<table id=\"configuration\">");
        foreach (var (name, value) in rows)
        {
            html.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");
        }
        html.Append("</table>\n");
    }

    private static void AppendLegend(StringBuilder html) =>
        html.Append("<p class=\"legend\">member lanes: <span class=\"leader\">leader</span><span class=\"replica\">replica</span>")
            .Append("<span class=\"frozen\">frozen</span><span class=\"stopped\">stopped</span><span class=\"partitioned\">partitioned</span>")
            .Append("<span class=\"unknown\">running, role unknown</span> &#x25BC; a step acting on the member. ")
            .Append("slot lanes: <span class=\"slot-held\">on its holder</span><span class=\"slot-dropped\">dropped</span>")
            .Append("<span class=\"slot-none\">not created yet</span></p>\n");

    private static void AppendSteps(
        StringBuilder html, Sequence sequence, SideHistory model, SideHistory? reality, IReadOnlyList<StepComparison>? comparisons,
        ImmutableArray<StepRun> runs, IReadOnlyList<string> slots)
    {
        var quiet = runs.Where(r => r.Quiet).ToList();
        html.Append("<h2>steps</h2>\n<p class=\"small\">").Append(N(sequence.Steps.Length)).Append(" steps");
        if (quiet.Count > 0)
        {
            html.Append("; ").Append(N(quiet.Sum(r => r.Count))).Append(" of them in ").Append(N(quiet.Count))
                .Append(" runs that change nothing the lanes show (no role, state, timeline, leader, slot holder or lost row changed, every step ok")
                .Append(comparisons is { Count: > 0 } ? " and agreeing" : "").Append("), each condensed to one line");
        }
        var busy = runs.Where(r => r.Kind == StepRunKind.Busy).ToList();
        if (busy.Count > 0)
        {
            html.Append("; more than ").Append(N(StepRuns.RowBudget)).Append(" rows were left, so only the disagreements, the steps that did not go ")
                .Append("as asked, the reconciles and the slot and configuration steps keep rows of their own, and the ")
                .Append(N(busy.Sum(r => r.Count))).Append(" steps between them are ").Append(N(busy.Count))
                .Append(" lines that count what changed (the charts above still mark every step that changed something; history.txt has each one)");
        }
        html.Append(". Times are seconds since each side's first observation.</p>\n<table id=\"steps\"><tr><th>step</th><th>")
            .Append(E(model.Side)).Append(" t</th>");
        if (reality is not null)
        {
            html.Append("<th>").Append(E(reality.Side)).Append(" t</th>");
        }
        html.Append("<th>").Append(E(model.Side)).Append("</th>");
        if (reality is not null)
        {
            html.Append("<th>").Append(E(reality.Side)).Append("</th>");
        }
        if (comparisons is { Count: > 0 })
        {
            html.Append("<th>model vs reality</th>");
        }
        html.Append("</tr>\n");
        var sides = reality is null ? new[] { model } : [model, reality];
        var scales = sides.Select(Scale).ToArray();
        foreach (var run in runs)
        {
            if (run.Quiet)
            {
                html.Append("<tr id=\"steps-").Append(run.First).Append('-').Append(run.Last).Append("\"><td class=\"num\">")
                    .Append(N(run.First)).Append("-").Append(N(run.Last)).Append("</td>");
                for (var s = 0; s < sides.Length; s++)
                {
                    html.Append("<td class=\"num\">").Append(E(RunTime(sides[s], scales[s], run))).Append("</td>");
                }
                html.Append("<td class=\"quiet\" colspan=\"").Append(sides.Length).Append("\">").Append(E(StepRuns.Summary(run, sequence.Steps))).Append("</td>");
                if (comparisons is { Count: > 0 })
                {
                    html.Append("<td class=\"agree\">=</td>");
                }
                html.Append("</tr>\n");
                continue;
            }
            if (run.Kind == StepRunKind.Busy)
            {
                html.Append("<tr id=\"steps-").Append(run.First).Append('-').Append(run.Last).Append("\"><td class=\"num\">")
                    .Append(N(run.First)).Append("-").Append(N(run.Last)).Append("</td>");
                for (var s = 0; s < sides.Length; s++)
                {
                    html.Append("<td class=\"num\">").Append(E(RunTime(sides[s], scales[s], run))).Append("</td>");
                }
                foreach (var side in sides)
                {
                    html.Append("<td class=\"busy\">").Append(E(StepRuns.BusySummary(run, sequence.Steps, side))).Append("</td>");
                }
                if (comparisons is { Count: > 0 })
                {
                    html.Append("<td class=\"agree\">=</td>");
                }
                html.Append("</tr>\n");
                continue;
            }
            var i = run.First;
            html.Append("<tr id=\"step-").Append(i).Append("\"><td class=\"num\">").Append(i).Append("</td>");
            for (var s = 0; s < sides.Length; s++)
            {
                html.Append("<td class=\"num\">")
                    .Append(i < sides[s].Entries.Length ? scales[s].Seconds(sides[s].Entries[i].Before.AtMilliseconds) : "")
                    .Append("</td>");
            }
            foreach (var side in sides)
            {
                if (i >= side.Entries.Length)
                {
                    html.Append("<td class=\"quiet\">not run</td>");
                    continue;
                }
                var entry = side.Entries[i];
                var cls = ResultClass(entry.Result);
                html.Append(cls.Length == 0 ? "<td>" : $"<td class=\"{cls}\">").Append(E(entry.Result.ToString()));
                foreach (var change in Changes(entry.Before, entry.After, sequence, slots))
                {
                    html.Append("<span class=\"change\">").Append(E(change)).Append("</span>");
                }
                html.Append("</td>");
            }
            if (comparisons is { Count: > 0 })
            {
                if (i >= comparisons.Count)
                {
                    html.Append("<td></td>");
                }
                else if (comparisons[i].Agrees)
                {
                    html.Append("<td class=\"agree\">=</td>");
                }
                else
                {
                    html.Append("<td class=\"disagree\">&#x2260; ");
                    foreach (var d in comparisons[i].Differences)
                    {
                        html.Append("<span class=\"change\">").Append(E(d)).Append("</span>");
                    }
                    html.Append("</td>");
                }
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
    }

    private static string RunTime(SideHistory side, TimeScale scale, StepRun run) =>
        run.First >= side.Entries.Length
            ? ""
            : $"{scale.Seconds(side.Entries[run.First].Before.AtMilliseconds)}-{scale.Seconds(side.Entries[Math.Min(run.Last, side.Entries.Length - 1)].After.AtMilliseconds)}";

    private static string ResultClass(StepResult result) => result.Reconcile is { } r
        ? ReconcileClass(r)
        : result.Status switch
        {
            StepStatus.Ok => "",
            StepStatus.Refused => "refused",
            _ => "err",
        };

    private static string ReconcileClass(ReconcileObservation r) => r.Outcome switch
    {
        ReconcileOutcome.Found when r.DuplicateBytes > 0 => "warn",
        ReconcileOutcome.Found or ReconcileOutcome.Created or ReconcileOutcome.RecreatedNoGap => "ok",
        ReconcileOutcome.FoundAhead => "ahead",
        ReconcileOutcome.RecreatedWithGap => "gap",
        ReconcileOutcome.Diverged => "phantom",
        _ => "err",
    };

    /// <summary>What a step changed that the lanes show: <c>pg1 leader tl1 -> stopped</c>, <c>leader pg1 -> none</c>, <c>s1 on pg1 -> dropped</c>.</summary>
    private static IEnumerable<string> Changes(Observation before, Observation after, Sequence sequence, IReadOnlyList<string> slots)
    {
        if (before.Leader != after.Leader)
        {
            yield return $"leader {before.Leader ?? "none"} -> {after.Leader ?? "none"}";
        }
        foreach (var name in sequence.Config.MemberNames)
        {
            var (was, now) = (MemberText(before.Member(name)), MemberText(after.Member(name)));
            if (was != now)
            {
                yield return $"{name} {was} -> {now}";
            }
        }
        foreach (var slot in slots)
        {
            var (was, now) = (Holders(before, slot), Holders(after, slot));
            if (!was.SequenceEqual(now))
            {
                yield return $"{slot} {(was.Count > 0 ? HolderText(was, false) : "missing")} -> {HolderText(now, was.Count > 0)}";
            }
        }
        var (lostBefore, lostAfter) = (Count(before.LostAcknowledged), Count(after.LostAcknowledged));
        if (lostBefore != lostAfter)
        {
            yield return $"lost acknowledged rows {lostBefore} -> {lostAfter}";
        }
    }

    private static string MemberText(MemberObservation? m) => m switch
    {
        null => "not observed",
        { State: MemberState.Running } => $"{m.Role.ToString().ToLowerInvariant()} tl{m.Timeline}",
        _ => m.State.ToString().ToLowerInvariant(),
    };

    private static List<string> Holders(Observation observation, string slot) =>
        [.. Members(observation).Where(m => !m.Slots.IsDefault && m.Slots.Any(s => s.Name == slot)).Select(m => m.Name)];

    private static string HolderText(List<string> holders, bool heldBefore) =>
        holders.Count > 0 ? $"on {string.Join(", ", holders)}" : heldBefore ? "dropped" : "not created yet";

    private static ImmutableArray<MemberObservation> Members(Observation observation) =>
        observation.Members.IsDefault ? [] : observation.Members;

    private static int Count<T>(ImmutableArray<T> items) => items.IsDefault ? 0 : items.Length;

    /// <summary>Every logical slot the sequence or the observations name, in order of name.</summary>
    private static List<string> SlotNames(Sequence sequence, IEnumerable<SideHistory> sides)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        names.UnionWith(sequence.Config.PermanentSlots.IsDefault ? [] : sequence.Config.PermanentSlots);
        names.UnionWith(sequence.Steps.Select(s => s.Slot).OfType<string>());
        foreach (var side in sides)
        {
            foreach (var o in Observations(side))
            {
                names.UnionWith(Members(o).SelectMany(m => m.Slots.IsDefault ? [] : m.Slots).Select(s => s.Name));
                names.UnionWith((o.Consumers.IsDefault ? [] : o.Consumers).Select(c => c.Slot));
            }
        }
        return [.. names];
    }

    /// <summary>The side's observations in order: the initial one, then the one after each step.</summary>
    private static IEnumerable<Observation> Observations(SideHistory side) => side.Entries.Select(e => e.After).Prepend(side.Initial);

    private static string StepText(Sequence sequence, int index) => index < sequence.Steps.Length ? sequence.Steps[index].ToString() ?? "" : "";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
