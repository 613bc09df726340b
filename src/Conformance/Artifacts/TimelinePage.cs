using System.Net;
using System.Text;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>
/// <c>timeline.html</c>: one self-contained page with a lane per member showing its role over the steps
/// (leader / replica / frozen / stopped / partitioned), the faults as marks, and the reconciler's outcomes;
/// model and reality side by side when both ran, with the disagreements marked.
/// </summary>
public static class TimelinePage
{
    public static string Render(Sequence sequence, SideHistory model, SideHistory? reality = null, IReadOnlyList<StepComparison>? comparisons = null)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>patroni-model timeline</title>\n<style>\n");
        html.Append("""
            body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
            h1{font-size:1.2em} h2{font-size:1.05em;margin-top:1.5em}
            table{border-collapse:collapse;font-size:12px}
            th,td{border:1px solid #ddd;padding:3px 5px;text-align:center;white-space:nowrap}
            th.step{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;max-height:14em}
            td.lane{text-align:left;font-weight:bold}
            .leader{background:#2e7d32;color:#fff} .replica{background:#90caf9} .unknown{background:#eee}
            .frozen{background:#ce93d8} .stopped{background:#9e9e9e;color:#fff} .partitioned{background:#ffb74d}
            .fault{outline:3px solid #d32f2f;outline-offset:-3px}
            .gap{background:#ef9a9a} .ok{background:#c8e6c9} .warn{background:#fff59d} .err{background:#e57373;color:#fff}
            .disagree{background:#d32f2f;color:#fff} .agree{background:#c8e6c9}
            .legend span{display:inline-block;padding:2px 8px;margin-right:4px}
            pre{background:#f6f6f6;padding:8px;font-size:12px}
            """);
        html.Append("\n</style></head><body>\n");
        html.Append($"<h1>{E(sequence.Description.Length > 0 ? sequence.Description : "fault sequence")}</h1>\n");
        if (sequence.Origin.Length > 0)
        {
            html.Append($"<p>origin: <code>{E(sequence.Origin)}</code></p>\n");
        }
        html.Append("<p class=\"legend\"><span class=\"leader\">leader</span><span class=\"replica\">replica</span><span class=\"frozen\">frozen</span>");
        html.Append("<span class=\"stopped\">stopped</span><span class=\"partitioned\">partitioned</span><span class=\"unknown\">unknown</span>");
        html.Append("<span class=\"fault\">fault on this member</span></p>\n");

        AppendSide(html, sequence, model, comparisons);
        if (reality is not null)
        {
            AppendSide(html, sequence, reality, comparisons);
        }
        html.Append("<h2>history</h2>\n<pre>");
        for (var i = 0; i < sequence.Steps.Length; i++)
        {
            var line = $"{i,3} {model.Entries.ElementAtOrDefault(i)?.Result.ToString() ?? sequence.Steps[i].ToString()}";
            if (reality?.Entries.ElementAtOrDefault(i) is { } r)
            {
                line += $"\n    reality: {r.Result}";
            }
            if (comparisons?.ElementAtOrDefault(i) is { Agrees: false } c)
            {
                line += $"\n    DISAGREE: {string.Join("; ", c.Differences)}";
            }
            html.Append(E(line)).Append('\n');
        }
        html.Append("</pre>\n</body></html>\n");
        return html.ToString();
    }

    private static void AppendSide(StringBuilder html, Sequence sequence, SideHistory side, IReadOnlyList<StepComparison>? comparisons)
    {
        html.Append($"<h2>{E(side.Side)}</h2>\n<table>\n<tr><th></th>");
        for (var i = 0; i < side.Entries.Length; i++)
        {
            html.Append($"<th class=\"step\" title=\"{E(side.Entries[i].Result.ToString())}\">{i} {E(side.Entries[i].Result.Step.ToString())}</th>");
        }
        html.Append("</tr>\n");
        foreach (var member in sequence.Config.MemberNames)
        {
            html.Append($"<tr><td class=\"lane\">{E(member)}</td>");
            foreach (var entry in side.Entries)
            {
                var observed = entry.After.Member(member);
                var cls = observed is null ? "unknown" : Class(observed);
                var fault = entry.Result.Step.Members.Contains(member) ? " fault" : "";
                var label = observed is null ? "" : observed.State == MemberState.Running ? $"tl{observed.Timeline}" : "";
                var title = observed?.ToString() ?? "not observed";
                html.Append($"<td class=\"{cls}{fault}\" title=\"{E(title)}\">{E(label)}</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("<tr><td class=\"lane\">reconciler</td>");
        foreach (var entry in side.Entries)
        {
            if (entry.Result.Reconcile is { } r)
            {
                var cls = r.Outcome switch
                {
                    ReconcileOutcome.Found when r.DuplicateBytes > 0 => "warn",
                    ReconcileOutcome.Found or ReconcileOutcome.Created or ReconcileOutcome.RecreatedNoGap => "ok",
                    ReconcileOutcome.Error => "err",
                    _ => "gap",
                };
                html.Append($"<td class=\"{cls}\" title=\"{E(r.ToString())}\">{E(Short(r))}</td>");
            }
            else
            {
                html.Append("<td></td>");
            }
        }
        html.Append("</tr>\n");
        if (comparisons is { Count: > 0 })
        {
            html.Append("<tr><td class=\"lane\">model vs reality</td>");
            foreach (var c in comparisons)
            {
                html.Append(c.Agrees
                    ? "<td class=\"agree\">=</td>"
                    : $"<td class=\"disagree\" title=\"{E(string.Join("; ", c.Differences))}\">&#x2260;</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
    }

    private static string Class(MemberObservation m) => m.State switch
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

    private static string Short(ReconcileObservation r) => r.Outcome switch
    {
        ReconcileOutcome.Found when r.DuplicateBytes > 0 => "dup",
        ReconcileOutcome.Found => "found",
        ReconcileOutcome.FoundAhead => "ahead",
        ReconcileOutcome.RecreatedWithGap => "gap",
        ReconcileOutcome.RecreatedNoGap => "no gap",
        ReconcileOutcome.Created => "new",
        ReconcileOutcome.Diverged => "fork",
        _ => "error",
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
