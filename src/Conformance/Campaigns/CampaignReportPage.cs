using System.Globalization;
using System.Net;
using System.Text;

namespace PatroniModel.Conformance.Campaigns;

/// <summary>
/// <c>report.html</c>: a campaign for a person in a browser, one self-contained page (no script, no external file): the
/// agreement rate, the disagreements by step kind and by compared field, the time per sequence, and one row per sequence
/// with its verdict, where it first disagreed and links to its timeline, history, logs and shrunk file.
/// </summary>
public static class CampaignReportPage
{
    public const string FileName = "report.html";

    public static string Render(CampaignSummary summary)
    {
        var html = new StringBuilder();
        string E(object? text) => WebUtility.HtmlEncode(Convert.ToString(text, CultureInfo.InvariantCulture) ?? "");
        string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>conformance campaign ")
            .Append(E(summary.Seed)).Append("</title>\n<style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}")
            .Append("table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;font-size:.9em}")
            .Append("th{background:#f3f3f3}.agree{background:#e8f6e8}.disagree{background:#fbe3e3}.error{background:#fff3cd}")
            .Append(".rate{font-size:2em;font-weight:bold}.mono{font-family:ui-monospace,monospace}.small{color:#666;font-size:.85em}")
            .Append("</style></head><body>\n");
        html.Append("<h1>Conformance campaign: model versus real Patroni</h1>\n");
        html.Append("<p class=\"rate\" id=\"rate\">").Append(F(summary.AgreementRate * 100)).Append("% agree</p>\n");
        html.Append("<p id=\"counts\">").Append(E(summary.Counts())).Append("</p>\n");
        html.Append("<table id=\"settings\">")
            .Append("<tr><th>command</th><td class=\"mono\">").Append(E(summary.Command())).Append("</td></tr>")
            .Append("<tr><th>family</th><td>").Append(E(CampaignSummary.FamilyName(summary.Family))).Append("</td></tr>")
            .Append("<tr><th>profile</th><td>").Append(E(summary.Profile)).Append("</td></tr>")
            .Append("<tr><th>time</th><td>").Append(F(summary.ElapsedSeconds / 60)).Append(" min in all; per sequence ")
            .Append(F(summary.MeanSeconds)).Append(" s mean, ").Append(F(summary.MedianSeconds)).Append(" s median; fresh-cluster bring-ups ")
            .Append(F(summary.BringUpSeconds / 60)).Append(" min</td></tr>")
            .Append("</table>\n");

        Counts(html, "Disagreements by step kind", "by-step-kind", "step kind", summary.ByStepKind, E);
        Counts(html, "Disagreements by compared field", "by-field", "field", summary.ByField, E);

        html.Append("<h2>Sequences</h2>\n<table id=\"sequences\"><tr><th>index</th><th>verdict</th><th>steps</th><th>configuration</th>")
            .Append("<th>first difference</th><th>seconds</th><th>evidence</th></tr>\n");
        foreach (var e in summary.Entries)
        {
            var verdict = e.Verdict.ToString().ToLowerInvariant();
            var link = e.Artifacts.Replace('\\', '/');
            html.Append("<tr class=\"").Append(verdict).Append("\"><td>").Append(e.Index).Append("<br><span class=\"small mono\">")
                .Append(E(e.Replay)).Append("</span></td><td>").Append(verdict).Append("</td><td>").Append(e.Steps).Append("</td><td class=\"small\">")
                .Append(E(e.Config)).Append("</td><td>");
            if (e.Verdict == CampaignVerdict.Disagree)
            {
                html.Append("step ").Append(e.Step).Append(" (").Append(E(e.StepKind)).Append(")<br>");
                foreach (var d in e.Differences)
                {
                    html.Append("<span class=\"mono small\">").Append(E(d)).Append("</span><br>");
                }
            }
            else if (e.Error is not null)
            {
                html.Append("<span class=\"small\">").Append(E(e.Error)).Append("</span>");
            }
            html.Append("</td><td>").Append(F(e.Seconds)).Append("<br><span class=\"small\">bring-up ").Append(F(e.BringUpSeconds)).Append("</span></td><td>")
                .Append("<a href=\"").Append(E(link)).Append("/timeline.html\">timeline</a> ")
                .Append("<a href=\"").Append(E(link)).Append("/history.txt\">history</a> ")
                .Append("<a href=\"").Append(E(link)).Append("/sequence.json\">sequence</a>");
            if (e.Shrunk is { } s)
            {
                html.Append("<br><a href=\"").Append(E(s.File.Replace('\\', '/'))).Append("\">shrunk</a> ")
                    .Append("<span class=\"small\">").Append(s.Steps).Append(" steps, ").Append(s.Replays).Append(" replays")
                    .Append(s.BudgetExhausted ? ", budget spent" : "").Append("</span>");
            }
            html.Append("</td></tr>\n");
        }
        html.Append("</table>\n</body></html>\n");
        return html.ToString();
    }

    private static void Counts(StringBuilder html, string title, string id, string what, IReadOnlyDictionary<string, int> counts, Func<object?, string> e)
    {
        html.Append("<h2>").Append(title).Append("</h2>\n");
        if (counts.Count == 0)
        {
            html.Append("<p id=\"").Append(id).Append("\">none</p>\n");
            return;
        }
        html.Append("<table id=\"").Append(id).Append("\"><tr><th>").Append(what).Append("</th><th>sequences</th></tr>");
        foreach (var (key, count) in counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            html.Append("<tr><td>").Append(e(key)).Append("</td><td>").Append(count).Append("</td></tr>");
        }
        html.Append("</table>\n");
    }
}
