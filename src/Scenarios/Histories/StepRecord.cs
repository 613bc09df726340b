using PatroniModel.Scenarios.Observations;

using PatroniModel.Scenarios.Clusters;

namespace PatroniModel.Scenarios.Histories;

/// <summary>One line of a history: a step's index, its result and the observations before and after it (on any cluster).</summary>
public sealed record StepRecord(int Index, StepResult Result, Observation Before, Observation After)
{
    /// <summary>One line: <c>  3 kill pg1 => ok</c>.</summary>
    public override string ToString() => $"{Index,3} {Result}";
}
