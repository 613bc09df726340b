using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Histories;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>One side's chart: the lanes over time, then the WAL positions over the same time scale.</summary>
public static partial class TimelinePage
{
    private const double ViewWidth = 1400;
    private const double PlotLeft = 130;
    private const double PlotWidth = 1110;
    private const double Tail = 60;
    private const double AxisHeight = 30;
    private const double LaneHeight = 20;
    private const double WalHeight = 300;

    private static readonly string[] MemberColours =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    /// <summary>The side's time scale; the last observation's state is drawn in a short tail after the last tick.</summary>
    private static TimeScale Scale(SideHistory side)
    {
        var start = side.Initial.AtMilliseconds;
        var end = side.Entries.IsDefaultOrEmpty ? start : side.Entries.Max(e => e.After.AtMilliseconds);
        return new TimeScale(start, Math.Max(end, start), PlotLeft, PlotWidth - Tail);
    }

    private static void AppendChart(
        StringBuilder html, Sequence sequence, SideHistory side, IReadOnlyList<StepComparison>? comparisons,
        ImmutableArray<StepRun> runs, IReadOnlyList<string> slots)
    {
        var scale = Scale(side);
        var observations = Observations(side).ToArray();
        var times = observations.Select(o => o.AtMilliseconds).ToArray();
        var members = sequence.Config.MemberNames.ToArray();
        var virtualTime = side.Side == "model";
        var clock = virtualTime ? "virtual seconds (the model's scheduler)" : "wall-clock seconds";
        html.Append("<h2 id=\"side-").Append(E(side.Side)).Append("\">").Append(E(side.Side)).Append("</h2>\n<p class=\"small\">")
            .Append(N(side.Entries.Length)).Append(" steps in ").Append(scale.Seconds(scale.EndMilliseconds)).Append(' ').Append(clock)
            .Append(", counted from the first observation");
        if (!virtualTime && side.Initial.AtMilliseconds > 0)
        {
            html.Append(" (the cluster's clock read ").Append((side.Initial.AtMilliseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture)).Append(" s then)");
        }
        html.Append(".</p>\n");

        var disagreements = comparisons is null
            ? []
            : comparisons.Where(c => !c.Agrees && c.Index < side.Entries.Length).ToList();
        var laneCount = 1 + members.Length + slots.Count + 1 + (comparisons is { Count: > 0 } ? 1 : 0);
        var lanesTop = AxisHeight;
        var walTop = lanesTop + laneCount * LaneHeight + 26;
        var walBottom = walTop + WalHeight;
        var height = walBottom + 44;
        var svg = new StringBuilder();
        svg.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" data-side=\"").Append(E(side.Side))
            .Append("\" viewBox=\"0 0 ").Append(F(ViewWidth)).Append(' ').Append(F(height)).Append("\" role=\"img\" aria-label=\"")
            .Append(E(side.Side)).Append(" timeline\">\n");

        var ticks = scale.Ticks().ToList();
        foreach (var (x, label) in ticks)
        {
            svg.Append("<line class=\"grid\" x1=\"").Append(F(x)).Append("\" y1=\"").Append(F(AxisHeight - 8)).Append("\" x2=\"").Append(F(x))
                .Append("\" y2=\"").Append(F(walBottom)).Append("\"/>");
            svg.Append("<text class=\"tick axis\" x=\"").Append(F(x)).Append("\" y=\"").Append(F(AxisHeight - 12))
                .Append("\" text-anchor=\"middle\">").Append(E(label)).Append("</text>");
            svg.Append("<text class=\"tick axis\" x=\"").Append(F(x)).Append("\" y=\"").Append(F(walBottom + 14))
                .Append("\" text-anchor=\"middle\">").Append(E(label)).Append("</text>\n");
        }
        svg.Append("<text class=\"tick\" x=\"").Append(F(PlotLeft + PlotWidth / 2)).Append("\" y=\"").Append(F(walBottom + 34))
            .Append("\" text-anchor=\"middle\">").Append(E($"{side.Side}: {clock} since the first observation")).Append("</text>\n");

        var y = lanesTop;
        AppendStepLane(svg, side, scale, runs, y);
        y += LaneHeight;
        for (var m = 0; m < members.Length; m++)
        {
            AppendMemberLane(svg, side, scale, observations, times, runs, members[m], y);
            y += LaneHeight;
        }
        foreach (var slot in slots)
        {
            AppendSlotLane(svg, scale, observations, times, slot, y);
            y += LaneHeight;
        }
        AppendReconcilerLane(svg, side, scale, y);
        y += LaneHeight;
        if (comparisons is { Count: > 0 })
        {
            Label(svg, y, "vs " + (virtualTime ? "reality" : "model"));
            var lastLabel = double.NegativeInfinity;
            var differences = disagreements.ToDictionary(d => d.Index, d => d.Differences);
            foreach (var bucket in Buckets(disagreements.Select(d => side.Entries[d.Index]), scale, 2))
            {
                var i = bucket[0].Index;
                var x = scale.X(bucket[0].Before.AtMilliseconds);
                var title = bucket.Count == 1
                    ? $"step {i} ({StepText(sequence, i)}) disagrees: {string.Join("; ", differences[i])}"
                    : $"{bucket.Count} steps {i}-{bucket[^1].Index} disagree; the first ({StepText(sequence, i)}): {string.Join("; ", differences[i])}";
                svg.Append("<rect class=\"disagree\" x=\"").Append(F(x - 2)).Append("\" y=\"").Append(F(y + 1)).Append("\" width=\"4\" height=\"")
                    .Append(F(LaneHeight - 2)).Append("\"><title>").Append(E(title)).Append("</title></rect>");
                if (x - lastLabel > 60)
                {
                    svg.Append("<text class=\"in\" x=\"").Append(F(x + 4)).Append("\" y=\"").Append(F(y + 14)).Append("\" style=\"fill:#d32f2f\">&#x2260; step ")
                        .Append(i).Append("</text>");
                    lastLabel = x;
                }
                svg.Append("<line class=\"disagree\" x1=\"").Append(F(x)).Append("\" y1=\"").Append(F(walTop)).Append("\" x2=\"").Append(F(x))
                    .Append("\" y2=\"").Append(F(walBottom)).Append("\"/>\n");
            }
            if (disagreements.Count == 0)
            {
                svg.Append("<text class=\"in\" x=\"").Append(F(PlotLeft + 4)).Append("\" y=\"").Append(F(y + 14)).Append("\">agree on every step</text>");
            }
            svg.Append('\n');
        }
        var legend = AppendWal(svg, side, scale, observations, members, slots, walTop);
        svg.Append("</svg>\n");
        html.Append(svg);
        html.Append("<p class=\"small legend\">WAL chart: ").Append(legend).Append("</p>\n");
    }

    private static void AppendStepLane(StringBuilder svg, SideHistory side, TimeScale scale, ImmutableArray<StepRun> runs, double y)
    {
        Label(svg, y, "steps");
        svg.Append("<rect class=\"quiet\" x=\"").Append(F(PlotLeft)).Append("\" y=\"").Append(F(y + 7)).Append("\" width=\"").Append(F(PlotWidth - Tail))
            .Append("\" height=\"6\"><title>a tick per step that changed something or is not the client's, the consumer's or time's; ")
            .Append("the grey between them: steps that changed nothing the lanes show</title></rect>\n");
        var lastLabelEnd = double.NegativeInfinity;
        var buckets = Buckets(MarkedSteps(side, runs), scale, 2).ToList();
        var labelled = buckets.Count <= MaxLabelledTicks;
        foreach (var bucket in buckets)
        {
            var x = scale.X(bucket[0].Before.AtMilliseconds);
            var colour = bucket.Min(e => e.Result.Step.Role switch
            {
                StepRole.Nemesis => 0,
                StepRole.Admin => 1,
                StepRole.Consumer => 2,
                StepRole.Client => 3,
                _ => 4,
            }) switch
            {
                0 => "#d32f2f",
                1 => "#6a1b9a",
                2 => "#1565c0",
                3 => "#616161",
                _ => "#9e9e9e",
            };
            svg.Append("<line x1=\"").Append(F(x)).Append("\" y1=\"").Append(F(y + 2)).Append("\" x2=\"").Append(F(x)).Append("\" y2=\"").Append(F(y + LaneHeight - 2))
                .Append("\" stroke=\"").Append(colour).Append("\" stroke-width=\"2\"><title>").Append(E(BucketTitle(bucket, scale))).Append("</title></line>");
            var label = bucket[0].Index.ToString(CultureInfo.InvariantCulture);
            if (labelled && x + 2 > lastLabelEnd)
            {
                svg.Append("<text class=\"in\" x=\"").Append(F(x + 2)).Append("\" y=\"").Append(F(y + 10)).Append("\">").Append(label).Append("</text>");
                lastLabelEnd = x + 2 + label.Length * 5.8 + 4;
            }
            svg.Append('\n');
        }
    }

    /// <summary>Past this many ticks the step lane labels none of them (they would be a smear; the tooltips and the table have them).</summary>
    private const int MaxLabelledTicks = 80;

    /// <summary>The steps the charts mark: every step with a row of its own, and the steps of a busy run that are not quiet.</summary>
    private static IEnumerable<StepRecord> MarkedSteps(SideHistory side, ImmutableArray<StepRun> runs)
    {
        foreach (var run in runs.Where(r => !r.Quiet))
        {
            for (var i = run.First; i <= run.Last && i < side.Entries.Length; i++)
            {
                if (run.Kind == StepRunKind.Step || !StepRuns.IsQuiet(side.Entries[i]))
                {
                    yield return side.Entries[i];
                }
            }
        }
    }

    /// <summary>Consecutive steps that fall in the same <paramref name="pixels"/>-wide column, so a long page draws one mark per column.</summary>
    private static IEnumerable<List<StepRecord>> Buckets(IEnumerable<StepRecord> steps, TimeScale scale, double pixels)
    {
        List<StepRecord>? bucket = null;
        var column = double.NaN;
        foreach (var step in steps)
        {
            var c = Math.Floor(scale.X(step.Before.AtMilliseconds) / pixels);
            if (bucket is not null && c == column)
            {
                bucket.Add(step);
                continue;
            }
            if (bucket is not null)
            {
                yield return bucket;
            }
            (bucket, column) = ([step], c);
        }
        if (bucket is not null)
        {
            yield return bucket;
        }
    }

    private static string BucketTitle(List<StepRecord> bucket, TimeScale scale) => bucket.Count == 1
        ? $"step {bucket[0].Index} at {scale.Seconds(bucket[0].Before.AtMilliseconds)} s: {bucket[0].Result}"
        : $"{bucket.Count} steps {bucket[0].Index}-{bucket[^1].Index} at {scale.Seconds(bucket[0].Before.AtMilliseconds)}-"
          + $"{scale.Seconds(bucket[^1].Before.AtMilliseconds)} s: {string.Join("; ", bucket.Take(3).Select(e => e.Result.ToString()))}{(bucket.Count > 3 ? "; ..." : "")}";

    private static void AppendMemberLane(
        StringBuilder svg, SideHistory side, TimeScale scale, Observation[] observations, long[] times,
        ImmutableArray<StepRun> runs, string member, double y)
    {
        Label(svg, y, member);
        Bands(svg, scale, times, y, k =>
        {
            var m = observations[k].Member(member);
            var cls = m is null ? "unknown" : LaneClass(m);
            return (cls, m is null ? "not observed" : MemberText(m));
        }, text => $"{member} {text}");
        foreach (var bucket in Buckets(MarkedSteps(side, runs).Where(e => e.Result.Step.Members.Contains(member)), scale, 4))
        {
            var x = scale.X(bucket[0].Before.AtMilliseconds);
            svg.Append("<path class=\"fault\" d=\"M").Append(F(x - 5)).Append(',').Append(F(y)).Append(" L").Append(F(x + 5)).Append(',').Append(F(y))
                .Append(" L").Append(F(x)).Append(',').Append(F(y + 8)).Append(" Z\"><title>").Append(E(BucketTitle(bucket, scale))).Append("</title></path>\n");
        }
    }

    private static void AppendSlotLane(StringBuilder svg, TimeScale scale, Observation[] observations, long[] times, string slot, double y)
    {
        Label(svg, y, $"slot {slot}");
        var held = new bool[observations.Length];
        for (var k = 0; k < observations.Length; k++)
        {
            held[k] = (k > 0 && held[k - 1]) || Holders(observations[k], slot).Count > 0;
        }
        Bands(svg, scale, times, y, k =>
        {
            var holders = Holders(observations[k], slot);
            var heldBefore = k > 0 && held[k - 1];
            var cls = holders.Count > 0 ? "slot-held" : heldBefore ? "slot-dropped" : "slot-none";
            return (cls, HolderText(holders, heldBefore));
        }, text => $"slot {slot} {text}");
    }

    private static void AppendReconcilerLane(StringBuilder svg, SideHistory side, TimeScale scale, double y)
    {
        Label(svg, y, "reconciler");
        var lastLabelEnd = double.NegativeInfinity;
        foreach (var entry in side.Entries)
        {
            if (entry.Result.Reconcile is not { } r)
            {
                continue;
            }
            var x = scale.X(entry.Before.AtMilliseconds);
            svg.Append("<rect class=\"r-").Append(ReconcileClass(r)).Append("\" x=\"").Append(F(x - 3)).Append("\" y=\"").Append(F(y + 2))
                .Append("\" width=\"6\" height=\"").Append(F(LaneHeight - 4)).Append("\"><title>")
                .Append(E($"step {entry.Index} at {scale.Seconds(entry.Before.AtMilliseconds)} s: {entry.Result}")).Append("</title></rect>");
            var label = ReconcileLabel(r);
            if (x + 5 > lastLabelEnd)
            {
                svg.Append("<text class=\"in halo\" x=\"").Append(F(x + 5)).Append("\" y=\"").Append(F(y + 14)).Append("\">").Append(E(label)).Append("</text>");
                lastLabelEnd = x + 5 + label.Length * 5.6 + 4;
            }
            svg.Append('\n');
        }
    }

    /// <summary>The reconciler lane's label: the outcome, with the size of a gap, phantoms or duplicates.</summary>
    private static string ReconcileLabel(ReconcileObservation r) => r.Outcome switch
    {
        ReconcileOutcome.Found when r.DuplicateBytes > 0 => $"{r.Slot}: duplicates {N(r.DuplicateBytes)} B",
        ReconcileOutcome.Found => $"{r.Slot}: found",
        ReconcileOutcome.FoundAhead => $"{r.Slot}: ahead, gap {N(r.GapBytes)} B",
        ReconcileOutcome.RecreatedWithGap => $"{r.Slot}: gap {N(r.GapBytes)} B",
        ReconcileOutcome.RecreatedNoGap => $"{r.Slot}: recreated, no gap",
        ReconcileOutcome.Created => $"{r.Slot}: created",
        ReconcileOutcome.Diverged => $"{r.Slot}: phantoms {N(PhantomBytes(r))} B",
        _ => $"{r.Slot}: error",
    };

    private static long PhantomBytes(ReconcileObservation r) =>
        r is { Fork: { } fork, LastConfirmed: { } confirmed } ? confirmed.BytesAfter(fork) : 0;

    /// <summary>
    /// A lane's bands: observation k's state from its time to the next observation's, equal neighbours merged. Three or
    /// more bands in a row each narrower than <see cref="NarrowBand"/> pixels are drawn as one grey band that says how many
    /// times the lane changed there (the steps table has each change).
    /// </summary>
    private static void Bands(StringBuilder svg, TimeScale scale, long[] times, double y, Func<int, (string Class, string Text)> state, Func<string, string> title)
    {
        var bands = new List<(string Class, string Text, double X0, double X1, long From, long? Until)>();
        var k = 0;
        while (k < times.Length)
        {
            var (cls, text) = state(k);
            var j = k;
            while (j + 1 < times.Length && state(j + 1) == (cls, text))
            {
                j++;
            }
            long? until = j + 1 < times.Length ? times[j + 1] : null;
            bands.Add((cls, text, scale.X(times[k]), until is { } u ? scale.X(u) : PlotLeft + PlotWidth, times[k], until));
            k = j + 1;
        }
        for (var b = 0; b < bands.Count; b++)
        {
            var n = b;
            while (n < bands.Count && bands[n].X1 - bands[n].X0 < NarrowBand)
            {
                n++;
            }
            if (n - b >= 3)
            {
                var (first, last) = (bands[b], bands[n - 1]);
                DrawBand(svg, "mixed", $"changed {N(n - b)} times", first.X0, last.X1, y,
                    $"{title($"changed {N(n - b)} times")}, {scale.Seconds(first.From)}-{(last.Until is { } u ? scale.Seconds(u) : "end")} s (each change is in the steps table)");
                b = n - 1;
                continue;
            }
            var band = bands[b];
            DrawBand(svg, band.Class, band.Text, band.X0, band.X1, y,
                $"{title(band.Text)}, {scale.Seconds(band.From)}-{(band.Until is { } until ? scale.Seconds(until) : "end")} s");
        }
    }

    private const double NarrowBand = 2;

    private static void DrawBand(StringBuilder svg, string cls, string text, double x0, double x1, double y, string title)
    {
        svg.Append("<rect class=\"").Append(cls).Append("\" x=\"").Append(F(x0)).Append("\" y=\"").Append(F(y + 1)).Append("\" width=\"")
            .Append(F(Math.Max(0, x1 - x0))).Append("\" height=\"").Append(F(LaneHeight - 2)).Append("\"><title>").Append(E(title)).Append("</title></rect>");
        if (x1 - x0 > text.Length * 5.2 + 4)
        {
            svg.Append("<text class=\"in").Append(cls is "leader" or "stopped" or "slot-dropped" ? " light" : "").Append("\" x=\"").Append(F(x0 + 3))
                .Append("\" y=\"").Append(F(y + 14)).Append("\">").Append(E(text)).Append("</text>");
        }
        svg.Append('\n');
    }

    private static string LaneClass(MemberObservation m) => m.State switch
    {
        MemberState.Stopped => "stopped",
        MemberState.Frozen => "frozen",
        MemberState.Partitioned => "partitioned",
        _ => m.Role switch
        {
            MemberRole.Leader => "leader",
            MemberRole.Replica => "replica",
            _ => "unknown",
        },
    };

    private static void Label(StringBuilder svg, double y, string text) =>
        svg.Append("<text class=\"lane\" x=\"").Append(F(PlotLeft - 8)).Append("\" y=\"").Append(F(y + 14)).Append("\">").Append(E(text)).Append("</text>\n");

    /// <param name="Width">A member's line width: the first member's is the widest, so members at the same position show as stacked colours.</param>
    private sealed record Series(string Class, string Label, string Colour, string Member, string Slot, List<List<(long At, Lsn Lsn)>> Segments, double? Width = null);

    private sealed record Band(string Class, Lsn From, Lsn To, long At, string Label);

    /// <summary>Draws the WAL chart and returns its legend (HTML).</summary>
    private static string AppendWal(
        StringBuilder svg, SideHistory side, TimeScale scale, Observation[] observations,
        string[] members, IReadOnlyList<string> slots, double top)
    {
        var series = new List<Series>();
        for (var m = 0; m < members.Length; m++)
        {
            var name = members[m];
            var wal = Collect("member", name, MemberColours[m % MemberColours.Length], name, "", observations,
                o => o.Member(name) is { State: MemberState.Running } member && member.WalLsn != Lsn.Zero ? member.WalLsn : null);
            if (wal.Segments.Count > 0)
            {
                series.Add(wal with { Width = 2 + (members.Length - 1 - m) * Math.Min(2.5, 9.0 / Math.Max(1, members.Length - 1)) });
            }
        }
        foreach (var slot in slots)
        {
            for (var m = 0; m < members.Length; m++)
            {
                var name = members[m];
                var s = Collect("slot", $"{slot} on {name}", MemberColours[m % MemberColours.Length], name, slot, observations,
                    o => o.Member(name)?.Slots is { IsDefault: false } held && held.FirstOrDefault(x => x.Name == slot) is { } found && found.ConfirmedFlush != Lsn.Zero
                        ? found.ConfirmedFlush
                        : null);
                if (s.Segments.Count > 0)
                {
                    series.Add(s);
                }
            }
            var consumer = Collect("consumer", $"consumer {slot}", "#111", "", slot, observations,
                o => (o.Consumers.IsDefault ? [] : o.Consumers).FirstOrDefault(c => c.Slot == slot) is { } c && c.LastConfirmed != Lsn.Zero ? c.LastConfirmed : null);
            if (consumer.Segments.Count > 0)
            {
                series.Add(consumer);
            }
        }
        var bands = side.Entries.Select(e => ReconcileBand(e.Index, e.Before.AtMilliseconds, e.Result.Reconcile)).OfType<Band>().ToList();
        var positions = series.SelectMany(s => s.Segments.SelectMany(g => g.Select(p => p.Lsn))).Concat(bands.SelectMany(b => new[] { b.From, b.To })).ToList();
        Label(svg, top - 22, "WAL (LSN)");
        if (positions.Count == 0)
        {
            svg.Append("<text x=\"").Append(F(PlotLeft + 4)).Append("\" y=\"").Append(F(top + 30)).Append("\">no WAL position observed</text>\n");
            return "no WAL position observed.";
        }
        var lsn = LsnScale.Around(positions, top + 6, WalHeight - 12);
        foreach (var (ty, label) in lsn.Ticks())
        {
            svg.Append("<line class=\"grid\" x1=\"").Append(F(PlotLeft)).Append("\" y1=\"").Append(F(ty)).Append("\" x2=\"").Append(F(PlotLeft + PlotWidth))
                .Append("\" y2=\"").Append(F(ty)).Append("\"/><text class=\"tick\" x=\"").Append(F(PlotLeft - 8)).Append("\" y=\"").Append(F(ty + 3))
                .Append("\" text-anchor=\"end\">").Append(E(label)).Append("</text>\n");
        }
        foreach (var band in bands)
        {
            var (y0, y1) = (lsn.Y(band.To), lsn.Y(band.From));
            if (y1 - y0 < 4)
            {
                (y0, y1) = ((y0 + y1) / 2 - 2, (y0 + y1) / 2 + 2);
            }
            var written = observations.FirstOrDefault(o => Members(o).Any(m => m.State == MemberState.Running && m.WalLsn > band.From))?.AtMilliseconds ?? band.At;
            var (x0, x1) = (scale.X(Math.Min(written, band.At)), scale.X(band.At));
            svg.Append("<rect class=\"band faint ").Append(band.Class).Append("\" x=\"").Append(F(PlotLeft)).Append("\" y=\"").Append(F(y0)).Append("\" width=\"")
                .Append(F(PlotWidth)).Append("\" height=\"").Append(F(y1 - y0)).Append("\"/>");
            svg.Append("<rect class=\"band ").Append(band.Class).Append("\" x=\"").Append(F(x0)).Append("\" y=\"").Append(F(y0)).Append("\" width=\"")
                .Append(F(Math.Max(3, x1 - x0))).Append("\" height=\"").Append(F(y1 - y0)).Append("\"><title>").Append(E(band.Label))
                .Append(" (from when that WAL was written to the reconcile)</title></rect>\n");
        }
        var ends = new List<(double Y, string Text, string Colour)>();
        foreach (var s in series)
        {
            foreach (var segment in s.Segments)
            {
                var points = Polyline.Simplify([.. segment.Select(p => (scale.X(p.At), lsn.Y(p.Lsn)))]);
                if (points.Count == 1)
                {
                    points.Add((points[0].X + 3, points[0].Y));
                }
                svg.Append("<polyline class=\"wal ").Append(s.Class).Append("\" data-member=\"").Append(E(s.Member)).Append("\" data-slot=\"").Append(E(s.Slot))
                    .Append("\" stroke=\"").Append(s.Colour).Append(s.Width is { } width ? $"\" style=\"stroke-width:{F(width)}" : "").Append("\" points=\"").AppendJoin(' ', points.Select(p => $"{F(p.X)},{F(p.Y)}"))
                    .Append(segment == s.Segments[0] ? $"\"><title>{E(s.Label)}</title></polyline>\n" : "\"/>\n");
            }
            var last = s.Segments[^1][^1];
            var ended = last.At < scale.EndMilliseconds && s.Class != "consumer";
            ends.Add((lsn.Y(last.Lsn), ended ? $"{s.Label} (until {scale.Seconds(last.At)} s)" : s.Label, s.Colour));
        }
        AppendTimelineSwitches(svg, scale, lsn, observations, members);
        AppendEndLabels(svg, ends);
        var stack = 0;
        foreach (var band in bands)
        {
            var x = scale.X(band.At);
            var anchor = x > PlotLeft + PlotWidth - 360 ? "end" : "start";
            var ty = lsn.Y(band.To) - 4 - 12 * (stack++ % 3);
            svg.Append("<text class=\"halo band-label\" x=\"").Append(F(anchor == "end" ? x - 4 : x + 4)).Append("\" y=\"").Append(F(Math.Max(top + 10, ty)))
                .Append("\" text-anchor=\"").Append(anchor).Append("\" style=\"fill:").Append(band.Class == "phantom" ? "#6a1b9a" : band.Class == "gap" ? "#b71c1c" : "#8d6e00")
                .Append("\">").Append(E(band.Label)).Append("</text>\n");
        }
        var legend = new StringBuilder();
        for (var m = 0; m < members.Length; m++)
        {
            legend.Append("<span style=\"border-bottom:3px solid ").Append(MemberColours[m % MemberColours.Length]).Append("\">").Append(E(members[m])).Append("</span>");
        }
        legend.Append(" solid: the member's WAL position (the leader's write LSN, a replica's replay LSN; members at the same position show as stacked colours, the first widest), broken while it is not running; ")
            .Append("dashed in the holder's colour: a slot's confirmed_flush_lsn on the member that holds it (<i>s1 on pg1</i>); ")
            .Append("dotted black: the consumer's confirmed position; shaded bands: the WAL ranges the reconciler reported, darker from when that WAL was written to the reconcile, as a ")
            .Append("<span style=\"background:#f8c1c0\">gap</span> (changes the consumer never gets), ")
            .Append("<span style=\"background:#ddb8e6\">phantoms</span> (changes it got that the new timeline does not have) or ")
            .Append("<span style=\"background:#fde9a8\">duplicates</span>, with their size.");
        return legend.ToString();
    }

    private static Series Collect(string cls, string label, string colour, string member, string slot, Observation[] observations, Func<Observation, Lsn?> position)
    {
        var segments = new List<List<(long At, Lsn Lsn)>>();
        List<(long At, Lsn Lsn)>? current = null;
        foreach (var o in observations)
        {
            if (position(o) is { } lsn)
            {
                if (current is null)
                {
                    current = [];
                    segments.Add(current);
                }
                current.Add((o.AtMilliseconds, lsn));
            }
            else
            {
                current = null;
            }
        }
        return new Series(cls, label, colour, member, slot, segments);
    }

    /// <summary>The WAL range a reconcile reported: a gap (consumer's position to the new slot's), phantoms (fork to the consumer's) or duplicates.</summary>
    private static Band? ReconcileBand(int index, long at, ReconcileObservation? r) => r switch
    {
        { Outcome: ReconcileOutcome.RecreatedWithGap or ReconcileOutcome.FoundAhead, GapStart: { } start, GapEnd: { } end } =>
            new Band("gap", start, end, at, $"gap {start}..{end} ({N(r.GapBytes)} B) in {r.Slot}, step {index}"),
        { Outcome: ReconcileOutcome.Diverged, Fork: { } fork, LastConfirmed: { } confirmed } =>
            new Band("phantom", fork, confirmed, at, $"phantoms {fork}..{confirmed} ({N(PhantomBytes(r))} B) in {r.Slot}, step {index}"),
        { Outcome: ReconcileOutcome.Found, DuplicateBytes: > 0, SlotPosition: { } slot, LastConfirmed: { } confirmed } =>
            new Band("duplicates", slot, confirmed, at, $"duplicates {slot}..{confirmed} ({N(r.DuplicateBytes)} B) in {r.Slot}, step {index}"),
        _ => null,
    };

    /// <summary>A small mark where a member's timeline changes, labelled with the new timeline.</summary>
    private static void AppendTimelineSwitches(StringBuilder svg, TimeScale scale, LsnScale lsn, Observation[] observations, string[] members)
    {
        foreach (var name in members)
        {
            var timeline = 0;
            foreach (var o in observations)
            {
                if (o.Member(name) is not { State: MemberState.Running } m || m.Timeline == 0 || m.WalLsn == Lsn.Zero)
                {
                    continue;
                }
                if (timeline != 0 && m.Timeline != timeline)
                {
                    var (x, y) = (scale.X(o.AtMilliseconds), lsn.Y(m.WalLsn));
                    svg.Append("<circle cx=\"").Append(F(x)).Append("\" cy=\"").Append(F(y)).Append("\" r=\"3.5\" fill=\"#fff\" stroke=\"#333\"><title>")
                        .Append(E($"{name} on timeline {m.Timeline} at {scale.Seconds(o.AtMilliseconds)} s")).Append("</title></circle>")
                        .Append("<text class=\"in halo\" x=\"").Append(F(x + 5)).Append("\" y=\"").Append(F(y + 12)).Append("\">").Append(E($"{name} tl{m.Timeline}"))
                        .Append("</text>\n");
                }
                timeline = m.Timeline;
            }
        }
    }

    /// <summary>Each series' name at the right edge, at its last position, pushed apart so they don't overlap.</summary>
    private static void AppendEndLabels(StringBuilder svg, List<(double Y, string Text, string Colour)> ends)
    {
        var placed = double.NegativeInfinity;
        foreach (var (y, text, colour) in ends.OrderBy(e => e.Y))
        {
            var at = Math.Max(y + 3, placed + 11);
            svg.Append("<text class=\"end-label\" x=\"").Append(F(PlotLeft + PlotWidth + 6)).Append("\" y=\"").Append(F(at)).Append("\" style=\"fill:").Append(colour)
                .Append("\">").Append(E(text)).Append("</text>\n");
            placed = at;
        }
    }

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
