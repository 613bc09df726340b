using System.Text;
using PatroniModel.Conformance.Running;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Histories;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>
/// Writes a run's evidence into a folder (<see cref="Scenarios.Artifacts.ArtifactFolder"/> makes one): the sequence, history.txt (one line per step),
/// history.jsonl (one JSON record per step and side, Jepsen style, with the observation after it), the comparison when
/// both sides ran, and timeline.html.
/// </summary>
public static class ArtifactWriter
{
    public static void Write(string directory, Sequence sequence, SideHistory model, SideHistory? reality = null, ConformanceReport? report = null)
    {
        Directory.CreateDirectory(directory);
        SequenceFile.Save(sequence, Path.Combine(directory, "sequence.json"));
        var text = new StringBuilder();
        var jsonl = new StringBuilder();
        foreach (var side in reality is null ? [model] : new[] { model, reality })
        {
            text.Append($"# {side.Side}\n");
            text.Append($"    initial: {side.Initial}\n");
            foreach (var entry in side.Entries)
            {
                text.Append(entry).Append('\n');
                text.Append($"    {entry.After}\n");
                jsonl.Append(ObservationJson.HistoryRecord(entry.Index, entry.Result, entry.After, side.Side)).Append('\n');
            }
        }
        if (report is not null)
        {
            text.Append("# comparison\n");
            foreach (var step in report.Steps)
            {
                text.Append(step).Append('\n');
            }
            text.Append(report.Verdict).Append('\n');
        }
        File.WriteAllText(Path.Combine(directory, "history.txt"), text.ToString());
        File.WriteAllText(Path.Combine(directory, "history.jsonl"), jsonl.ToString());
        File.WriteAllText(Path.Combine(directory, "timeline.html"), TimelinePage.Render(sequence, model, reality, report?.Steps));
    }
}
