using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Support;

/// <summary>Applies steps and keeps the history, so a failing assertion can print what happened.</summary>
public static class StepRunner
{
    /// <summary>Applies a step that must succeed; fails with the trace otherwise.</summary>
    public static StepResult Ok(this ModelCluster cluster, Step step)
    {
        var result = cluster.Apply(step);
        Assert.True(result.Status == StepStatus.Ok, $"{result}\n--- trace ---\n{cluster.TraceText()}");
        return result;
    }

    public static ReconcileObservation Reconciled(this ModelCluster cluster, string slot)
    {
        var result = cluster.Ok(new Reconcile(slot));
        return result.Reconcile ?? throw new Xunit.Sdk.XunitException("reconcile gave no report");
    }

    public static string Why(this ModelCluster cluster) => $"\n--- observation ---\n{cluster.Observe()}\n--- trace ---\n{cluster.TraceText()}";
}
