using PatroniModel.Scenarios.Configuration;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>
/// Reads and writes sequence files, format <c>patroni-model/sequence@1</c> (documented in the README):
/// a JSON object with <c>format</c>, <c>description</c>, <c>origin</c>, <c>cluster</c> and <c>steps</c>, one step object per line.
/// Writing is canonical, so reading a written file and writing it again gives the same bytes.
/// Every read error is a <see cref="SequenceFormatException"/> naming the file, the step index and the reason.
/// The reader is <see cref="SequenceFileReader"/>, the writer <see cref="SequenceFileWriter"/>; both go by one table of
/// step kinds and fields, <see cref="StepSchema"/> (and <see cref="ConfigPatchFields"/> for <c>patch-config</c>).
/// </summary>
public static class SequenceFile
{
    public const string Format = "patroni-model/sequence@1";

    public static Sequence Load(string path) => SequenceFileReader.Load(path);

    public static void Save(Sequence sequence, string path) => SequenceFileWriter.Save(sequence, path);

    public static Sequence Parse(string json, string source = "<input>") => SequenceFileReader.Parse(json, source);

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

    /// <summary>The canonical text of a sequence file.</summary>
    public static string Write(Sequence sequence) => SequenceFileWriter.Write(sequence);

    /// <summary>One step as a one-line JSON object, as it appears in a sequence file.</summary>
    public static string StepJson(Faults.Step step) => SequenceFileWriter.StepJson(step);
}
