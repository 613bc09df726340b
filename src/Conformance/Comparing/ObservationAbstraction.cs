using System.Collections.Immutable;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Conformance.Comparing;

/// <summary>
/// The abstraction under which the model and a real cluster are compared after a step. Raw LSNs are never compared
/// (real WAL sizes differ); their order relations are. Stated in full:
/// <list type="bullet">
/// <item>after every step: each member's process state (running / stopped / frozen / partitioned), the step's status
///   (ok / refused / failed), and, for a reconcile step, the outcome kind, whether the gap is zero, and end &gt; start;</item>
/// <item>after a stable step (<c>settle</c>, or a data/slot step whose previous comparison was stable): the leader's
///   identity (within the model's allowed set), each running member's role, whether the leader's timeline moved since the
///   last stable point, which slots exist on the leader, whether each running member's digest equals the leader's, and
///   whether any acknowledged write is lost; replicas' WAL never past the leader's on both sides.</item>
/// </list>
/// Digests are compared only over members that answered SQL on both sides: Patroni restarts a replica's PostgreSQL by
/// itself (to copy a permanent logical slot to it), and a member caught in that restart has no digest in reality for
/// a moment although it is running; its process state and role are still compared.
/// Which members hold the leader's rows is only meaningful once streaming replicas replayed the leader's WAL: the real
/// driver waits for that (bounded) after every step that writes WAL (PatroniCluster.CatchUpReplicasAsync), as the
/// model's replication is instant; a replica that does not catch up within the bound still shows here.
/// Reality's observation reads the replicas before the leader (PatroniCluster.ObserveAsync), so "replica never past the
/// leader" holds there even while the leader writes WAL on its own.
/// Topology steps (the nemesis's and the administrator's, see <see cref="StepRole"/>, and wait) leave
/// the cluster in transition for a time that reality does not bound exactly, so only the process states are compared
/// right after them.
/// </summary>
public static class ObservationAbstraction
{
    /// <summary>True for steps after which the cluster may be in transition.</summary>
    public static bool IsTopologyStep(Step step) => step.Role is StepRole.Nemesis or StepRole.Admin || step is Wait;

    /// <summary>The differences between the two sides after one step (empty when they agree).</summary>
    public static ImmutableArray<string> Compare(
        StepResult model, Observation modelAfter, Observation modelStable,
        StepResult reality, Observation realAfter, Observation realStable,
        bool stable, IReadOnlyList<string> allowedLeaders)
    {
        var differences = ImmutableArray.CreateBuilder<string>();
        void Differ(string what, object? m, object? r) => differences.Add($"{what}: model {m ?? "none"}, reality {r ?? "none"}");

        if (model.Status != reality.Status)
        {
            Differ("step status", model.Status, reality.Status);
        }
        foreach (var member in modelAfter.Members)
        {
            var real = realAfter.Member(member.Name);
            if (real is null)
            {
                Differ($"{member.Name}", "present", "absent");
                continue;
            }
            if (member.State != real.State)
            {
                Differ($"{member.Name} state", Lower(member.State), Lower(real.State));
            }
        }
        if (model.Reconcile is { } mr && reality.Reconcile is { } rr)
        {
            if (mr.Outcome != rr.Outcome)
            {
                Differ($"reconcile {mr.Slot} outcome", mr.Outcome, rr.Outcome);
            }
            else if ((mr.GapBytes == 0) != (rr.GapBytes == 0))
            {
                Differ($"reconcile {mr.Slot} gap is zero", mr.GapBytes == 0, rr.GapBytes == 0);
            }
            if (rr.GapStart is { } start && rr.GapEnd is { } end && end <= start)
            {
                differences.Add($"reality's gap end {end} is not past its start {start}");
            }
        }
        else if ((model.Reconcile is null) != (reality.Reconcile is null))
        {
            Differ("reconcile report", model.Reconcile?.Outcome, reality.Reconcile?.Outcome);
        }
        if (!stable)
        {
            return differences.ToImmutable();
        }

        if (modelAfter.Leader != realAfter.Leader)
        {
            var allowed = allowedLeaders.Count == 0 ? "" : $" (model allowed: {string.Join(", ", allowedLeaders)})";
            differences.Add($"leader: model {modelAfter.Leader ?? "none"}, reality {realAfter.Leader ?? "none"}{allowed}");
        }
        foreach (var member in modelAfter.Members.Where(m => m.State == MemberState.Running))
        {
            if (realAfter.Member(member.Name) is { State: MemberState.Running } real && real.Role != member.Role)
            {
                Differ($"{member.Name} role", Lower(member.Role), Lower(real.Role));
            }
        }
        var modelMoved = Timeline(modelAfter) > Timeline(modelStable);
        var realMoved = Timeline(realAfter) > Timeline(realStable);
        if (modelMoved != realMoved)
        {
            Differ("leader timeline moved", modelMoved, realMoved);
        }
        var modelSlots = LeaderSlots(modelAfter);
        var realSlots = LeaderSlots(realAfter);
        if (modelSlots != realSlots)
        {
            Differ("slots on the leader", $"[{modelSlots}]", $"[{realSlots}]");
        }
        var answered = modelAfter.Members.Where(m => m.Digest.Length > 0).Select(m => m.Name)
            .Intersect(realAfter.Members.Where(m => m.Digest.Length > 0).Select(m => m.Name), StringComparer.Ordinal)
            .ToHashSet(StringComparer.Ordinal);
        var modelDigests = DigestAgreement(modelAfter, answered);
        var realDigests = DigestAgreement(realAfter, answered);
        if (modelDigests != realDigests)
        {
            Differ("members holding the leader's rows", $"[{modelDigests}]", $"[{realDigests}]");
        }
        if (modelAfter.LostAcknowledged.IsDefaultOrEmpty != realAfter.LostAcknowledged.IsDefaultOrEmpty)
        {
            Differ("lost acknowledged writes", Lost(modelAfter.LostAcknowledged), Lost(realAfter.LostAcknowledged));
        }
        foreach (var (side, observation) in new[] { ("model", modelAfter), ("reality", realAfter) })
        {
            if (observation.LeaderMember is { } leader)
            {
                foreach (var replica in observation.Members.Where(m => m.Role == MemberRole.Replica && m.Timeline == leader.Timeline && m.WalLsn > leader.WalLsn))
                {
                    differences.Add($"{side}: replica {replica.Name} at {replica.WalLsn} is past leader {leader.Name} at {leader.WalLsn}");
                }
            }
        }
        return differences.ToImmutable();
    }

    private static int Timeline(Observation observation) => observation.LeaderMember?.Timeline ?? 0;

    private static string LeaderSlots(Observation observation) =>
        string.Join(',', (observation.LeaderMember?.Slots ?? []).Select(s => s.Name).Order(StringComparer.Ordinal));

    private static string DigestAgreement(Observation observation, IReadOnlySet<string> answered)
    {
        var leader = observation.LeaderMember;
        if (leader is null || leader.Digest.Length == 0)
        {
            return "";
        }
        return string.Join(',', observation.Members
            .Where(m => m.State == MemberState.Running && answered.Contains(m.Name) && m.Digest == leader.Digest)
            .Select(m => m.Name));
    }

    /// <summary><c>0</c>, or <c>4 (rows 4,5,6,7)</c>: the lost writes named by their row ids.</summary>
    private static string Lost(ImmutableArray<long> ids) =>
        ids.IsDefaultOrEmpty ? "0" : $"{ids.Length} (rows {string.Join(',', ids.Order())})";

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
