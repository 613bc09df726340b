using PatroniModel.Exploration.Clusters;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Exploration.Properties;

/// <summary>
/// Checks every property after every step of one run, from the observations before and after the step, the step's result
/// and the cluster's timeline history: the eleven properties (<see cref="Properties"/>, one class each, the README lists them),
/// composed in order, the first violation wins. One instance per run: what the run showed so far is its <see cref="RunRecord"/>.
/// </summary>
public sealed class PropertyChecker
{
    private readonly RunRecord _run;
    private readonly OneWritableLeaderProperty _oneWritableLeader;

    public PropertyChecker(ISimulatedCluster cluster)
    {
        _run = new RunRecord(cluster);
        var truth = new ReconcileTruth(_run);
        _oneWritableLeader = new OneWritableLeaderProperty(_run);
        Properties =
        [
            new CurrentLeaderProperty(truth), new GapExactnessProperty(truth), new NoFalseAlarmProperty(truth), new DuplicatesProperty(truth),
            new DivergenceProperty(truth), new FailoverSlotsProperty(truth), new PersistedPositionProperty(_run),
            _oneWritableLeader, new DurabilityProperty(_run), new ConvergenceProperty(), new LivenessProperty(_run),
        ];
    }

    /// <summary>The properties, in the order they are checked.</summary>
    public IReadOnlyList<IProperty> Properties { get; }

    /// <summary>Window in which a thawed ex-leader may still accept writes on its old timeline (see <see cref="RunRecord"/>).</summary>
    public long FrozenLeaderWindowMilliseconds => _run.FrozenLeaderWindowMilliseconds;

    /// <summary>After healing, a leader exists within ttl + loop_wait + retry_timeout.</summary>
    public long LivenessBoundMilliseconds => _run.LivenessBoundMilliseconds;

    /// <summary>The async durability bound's "last ttl" (see <see cref="RunRecord"/>).</summary>
    public long DurabilityWindowMilliseconds => _run.DurabilityWindowMilliseconds;

    /// <summary>Records the observation taken before the first step; only one writable leader is judged there.</summary>
    public PropertyViolation? Start(Observation initial)
    {
        _run.Start(initial);
        return _oneWritableLeader.Check(new PropertyStep(-1, null, null, initial, initial));
    }

    /// <summary>Checks every property after step <paramref name="index"/>; the first violation, or null.</summary>
    public PropertyViolation? Check(int index, Step step, StepResult result, Observation before, Observation after)
    {
        var checkedStep = new PropertyStep(index, step, result, before, after);
        _run.Record(checkedStep);
        foreach (var property in Properties)
        {
            if (property.Check(checkedStep) is { } violation)
            {
                return violation;
            }
        }
        return null;
    }
}
