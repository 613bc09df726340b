using System.Collections.Immutable;
using PatroniModel.Exploration.Generation;
using PatroniModel.Exploration.Running;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Exploration.Shrinking;

/// <summary>The shortest failing sequence found and how many runs it took.</summary>
public sealed record ShrinkResult(RunOutcome Shrunk, int Runs);

/// <summary>
/// Shrinks a failing sequence to a short one that fails the same property.
/// </summary>
/// <remarks>
/// Our own shrinker over step lists rather than FsCheck.Experimental.Machine or an FsCheck shrinker: (1) a candidate must keep
/// failing the <em>same</em> property (FsCheck accepts any failure, and a shrink that slides from a gap bug to a liveness
/// problem would print the wrong story); (2) every candidate must make sense as a whole (no thaw of a member that is not
/// frozen once the freeze was removed), which is <see cref="GenerationState.Admits"/>; (3) the configuration shrinks too
/// (5 members to 3, strict to off, fewer permanent slots); and (4) the CLI's explore runs it outside any test runner.
/// Machine would also need the model's state restated as an FsCheck model, which the observations already are.
/// The steps: cut everything after the failing step, remove chunks (halves down to single steps, ddmin style), make the
/// remaining steps smaller (fewer rows, less WAL, shorter waits), simplify the configuration; repeat to a fixed point.
/// </remarks>
public sealed class SequenceShrinker(Func<Sequence, RunOutcome> run, int maximumRuns = 2_000)
{
    private static readonly long[] WalSizes = [8_192, 65_536, 300_000, 1_500_000];
    private static readonly int[] WaitSizes = [1, 2, 5, 10, 15];

    public ShrinkResult Shrink(RunOutcome failing)
    {
        var label = failing.Violation?.Label ?? throw new ArgumentException("the run did not fail", nameof(failing));
        var best = failing;
        var (_, runs) = Minimise(failing.Sequence, failing.Violation.StepIndex, candidate =>
        {
            var outcome = run(candidate);
            if (outcome.Violation?.Label != label)
            {
                return null;
            }
            best = outcome;
            return outcome.Violation.StepIndex;
        }, maximumRuns);
        return new ShrinkResult(Truncated(best), runs);
    }

    /// <summary>
    /// The shrinking loop on its own, for any judge of "still fails the same way" (the exploration's property check, or a
    /// replay on model and reality that must still disagree in the same field): <paramref name="stillFails"/> runs a
    /// candidate and returns the index of the step where it fails, or null when it no longer fails that way. At most
    /// <paramref name="maximumRuns"/> candidates are run (a candidate that does not make sense as a whole is not run).
    /// Returns the shortest failing sequence found, cut after its failing step, and the number of candidates run.
    /// </summary>
    public static (Sequence Shrunk, int Runs) Minimise(Sequence failing, int? failingStep, Func<Sequence, int?> stillFails, int maximumRuns)
    {
        var best = Truncated(failing, failingStep);
        var runs = 0;

        bool Try(ClusterConfig config, IReadOnlyList<Step> steps)
        {
            if (runs >= maximumRuns || !GenerationState.Admits(config, steps))
            {
                return false;
            }
            runs++;
            var candidate = best with { Config = config, Steps = [.. steps] };
            if (stillFails(candidate) is not { } step)
            {
                return false;
            }
            best = Truncated(candidate, step);
            return true;
        }

        var progress = true;
        while (progress && runs < maximumRuns)
        {
            progress = false;
            for (var chunk = Math.Max(1, best.Steps.Length / 2); chunk >= 1; chunk /= 2)
            {
                for (var start = 0; start + chunk <= best.Steps.Length && runs < maximumRuns;)
                {
                    var steps = best.Steps;
                    if (Try(best.Config, [.. steps.Take(start), .. steps.Skip(start + chunk)]))
                    {
                        progress = true;
                    }
                    else
                    {
                        start++;
                    }
                }
            }
            for (var j = best.Steps.Length - 1; j > 0 && runs < maximumRuns; j--)
            {
                // A fault and its recovery go together: removing either alone breaks the preconditions.
                var steps = best.Steps;
                if (j < steps.Length && FaultOf(steps, j) is { } i && Try(best.Config, [.. steps.Where((_, k) => k != i && k != j)]))
                {
                    progress = true;
                }
            }
            for (var i = 0; i < best.Steps.Length && runs < maximumRuns; i++)
            {
                foreach (var smaller in Smaller(best.Steps[i]))
                {
                    var steps = best.Steps;
                    if (i < steps.Length && Try(best.Config, steps.SetItem(i, smaller)))
                    {
                        progress = true;
                        break;
                    }
                }
            }
            foreach (var config in Simpler(best))
            {
                if (Try(config, best.Steps))
                {
                    progress = true;
                }
            }
        }
        return (best, runs);
    }

    /// <summary>Drops the steps after the failing one: they did not take part.</summary>
    private static RunOutcome Truncated(RunOutcome outcome) =>
        outcome with { Sequence = Truncated(outcome.Sequence, outcome.Violation?.StepIndex) };

    private static Sequence Truncated(Sequence sequence, int? failingStep)
    {
        var keep = Math.Max(0, (failingStep ?? sequence.Steps.Length - 1) + 1);
        return keep >= sequence.Steps.Length ? sequence : sequence with { Steps = [.. sequence.Steps.Take(keep)] };
    }

    /// <summary>The index of the fault that step <paramref name="j"/> recovers from (the freeze of a thaw...), or null.</summary>
    private static int? FaultOf(ImmutableArray<Step> steps, int j)
    {
        Func<Step, bool>? matches = steps[j] switch
        {
            Start s => f => f is Kill k && k.Member == s.Member,
            Thaw t => f => f is Freeze z && z.Member == t.Member,
            Heal h => f => f is Partition p && p.Member == h.Member,
            _ => null,
        };
        if (matches is null)
        {
            return null;
        }
        for (var i = j - 1; i >= 0; i--)
        {
            if (matches(steps[i]))
            {
                return i;
            }
        }
        return null;
    }

    private static IEnumerable<Step> Smaller(Step step) => step switch
    {
        Write { Rows: > 1 } w => [new Write(1), new Write(w.Rows / 2)],
        AdvanceWal a => WalSizes.Where(b => b < a.Bytes).Select(b => new AdvanceWal(b)),
        Wait w => WaitSizes.Where(s => s < w.Seconds).Select(s => new Wait(s)),
        CreateSlot { Permanent: true } c => [c with { Permanent = false }],
        Switchover { To: not null } s => [s with { To = null }],
        _ => [],
    };

    private static IEnumerable<ClusterConfig> Simpler(Sequence sequence)
    {
        var config = sequence.Config;
        if (config.Members > 3 && sequence.Steps.SelectMany(s => s.Members).All(m => int.Parse(m.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture) <= 3))
        {
            yield return config with { Members = 3 };
        }
        if (config.SynchronousMode != SynchronousMode.Off)
        {
            yield return config with { SynchronousMode = SynchronousMode.Off };
        }
        foreach (var slot in config.PermanentSlots)
        {
            yield return config with { PermanentSlots = config.PermanentSlots.Remove(slot) };
        }
        if (!config.IgnoreSlots.IsEmpty)
        {
            yield return config with { IgnoreSlots = ImmutableArray<string>.Empty };
        }
        var defaults = ClusterConfig.Default;
        if ((config.Ttl, config.LoopWait, config.RetryTimeout) != (defaults.Ttl, defaults.LoopWait, defaults.RetryTimeout))
        {
            yield return config with { Ttl = defaults.Ttl, LoopWait = defaults.LoopWait, RetryTimeout = defaults.RetryTimeout };
        }
        if (config.MaximumLagOnFailover != defaults.MaximumLagOnFailover)
        {
            yield return config with { MaximumLagOnFailover = defaults.MaximumLagOnFailover };
        }
        if (config.InitialWal is not null)
        {
            yield return config with { InitialWal = null };
        }
    }
}
