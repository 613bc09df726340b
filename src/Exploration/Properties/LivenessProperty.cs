using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Properties;

/// <summary>Liveness: once every member is healthy, a leader exists within ttl + loop_wait + retry_timeout (and after a settle).</summary>
public sealed class LivenessProperty(RunRecord run) : IProperty
{
    private long? _healthySince;

    public string Label => PropertyLabels.Liveness;

    public PropertyViolation? Check(PropertyStep step) => Check(step.Index, step.Step, step.After);

    private PropertyViolation? Check(int index, Step? step, Observation after)
    {
        if (!RunRecord.AllRunning(after))
        {
            _healthySince = null;
            return null;
        }
        _healthySince ??= after.AtMilliseconds;
        if (after.Leader is not null)
        {
            return null;
        }
        var healthyFor = after.AtMilliseconds - _healthySince.Value;
        if (step is Settle)
        {
            return new PropertyViolation(PropertyLabels.Liveness, index,
                $"every member is running but there is no leader after settle ({healthyFor} ms after healing)");
        }
        return healthyFor > run.LivenessBoundMilliseconds
            ? new PropertyViolation(PropertyLabels.Liveness, index,
                $"every member has been running for {healthyFor} ms and there is no leader (bound: ttl + loop_wait + retry_timeout = {run.LivenessBoundMilliseconds} ms)")
            : null;
    }
}
