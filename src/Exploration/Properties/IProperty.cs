using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Properties;

/// <summary>One property checked after every step of a run (a Jepsen checker); <see cref="PropertyChecker"/> composes them.</summary>
public interface IProperty
{
    /// <summary>The label a counterexample prints (<see cref="PropertyLabels"/>).</summary>
    string Label { get; }

    /// <summary>The violation after <paramref name="step"/>, or null when the property holds.</summary>
    PropertyViolation? Check(PropertyStep step);
}

/// <summary>
/// One step as the properties see it: its index (-1 for the observation before the first step, with no step), the step and
/// its result, and the observations before and after it.
/// </summary>
public sealed record PropertyStep(int Index, Step? Step, StepResult? Result, Observation Before, Observation After);
