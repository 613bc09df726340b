namespace PatroniModel.Scenarios.Sequences;

/// <summary>A sequence file that can't be read; <see cref="Exception.Message"/> is one line: file, step index, reason.</summary>
public sealed class SequenceFormatException(string source, int? stepIndex, string reason)
    : Exception(stepIndex is { } i ? $"{source}: step {i}: {reason}" : $"{source}: {reason}")
{
    public string FileName { get; } = source;
    public int? StepIndex { get; } = stepIndex;
    public string Reason { get; } = reason;
}
