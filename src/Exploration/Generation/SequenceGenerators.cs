using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Scenarios.Sequences;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Exploration.Generation;

/// <summary>
/// FsCheck generators of cluster configurations and fault sequences over the vocabulary in <c>src/Scenarios</c>.
/// </summary>
/// <remarks>
/// Steps are drawn one at a time from a <see cref="GenerationState"/> that tracks which members are running, killed, frozen
/// or partitioned, so every generated step makes sense (no thaw of a member that is not frozen, a switchover needs a
/// healthy replica...). Weights make the interesting interleavings common: besides single steps, whole "episodes" are drawn
/// (slot consumed, WAL moved, a fault on the leader, time passes, WAL moves on the new leader, reconcile), and half of the
/// sequences end by healing every fault, settling and reconciling every consumed slot, so that the convergence and liveness
/// properties get something to check.
/// </remarks>
public static class SequenceGenerators
{
    /// <summary>Step-count range at FsCheck's size 0 and the growth per size unit (size runs 0..100: up to about 36 steps).</summary>
    private const int MinimumSteps = 4;

    private static readonly ImmutableArray<long> WalMoves = [8_192, 65_536, 300_000, 1_500_000, 2_500_000, 16_777_216];
    private static readonly ImmutableArray<int> WaitSeconds = [1, 2, 5, 10, 15, 30];

    /// <summary>Patroni's timing settings: the documented defaults and the faster set that was stable on this machine.</summary>
    private static readonly ImmutableArray<(int Ttl, int LoopWait, int RetryTimeout)> Timings = [(10, 2, 4), (6, 1, 2), (12, 3, 4)];

    /// <summary>Configurations: 3 or 5 members, async/sync/strict, with and without permanent and ignored slots.</summary>
    public static Gen<ClusterConfig> Configs(int? members = null) =>
        from count in members is { } m ? Gen.Constant(m) : Gen.Frequency((4, Gen.Constant(3)), (1, Gen.Constant(5)))
        from mode in Gen.Frequency((3, Gen.Constant(SynchronousMode.Off)), (2, Gen.Constant(SynchronousMode.On)), (2, Gen.Constant(SynchronousMode.Strict)))
        from permanent in Gen.Frequency(
            (3, Gen.Constant(ImmutableArray<string>.Empty)),
            (2, Gen.Constant(ImmutableArray.Create("s1"))),
            (1, Gen.Constant(ImmutableArray.Create("s1", "s2"))))
        from ignore in Gen.Frequency((4, Gen.Constant(ImmutableArray<string>.Empty)), (1, Gen.Constant(ImmutableArray.Create("s3"))))
        from timing in Gen.Frequency((3, Gen.Constant(Timings[0])), (1, Gen.Constant(Timings[1])))
        from lag in Gen.Frequency((3, Gen.Constant(1_048_576L)), (1, Gen.Constant(65_536L)))
        select new ClusterConfig
        {
            Members = count,
            SynchronousMode = mode,
            PermanentSlots = permanent,
            IgnoreSlots = ignore,
            Ttl = timing.Ttl,
            LoopWait = timing.LoopWait,
            RetryTimeout = timing.RetryTimeout,
            MaximumLagOnFailover = lag,
        };

    /// <summary>
    /// PostgreSQL 17 sequences: the configurations of <see cref="Configs"/> on <c>postgres: 17</c> (slots the consumer and the
    /// reconciler create are failover slots), half of them with <c>synchronized_standby_slots</c>. A separate generator, so the
    /// default run's seeds keep giving the sequences they always gave.
    /// </summary>
    public static Gen<Sequence> FailoverSlotSequences() =>
        Gen.Sized(size =>
            from config in Configs()
            from synchronizedStandbySlots in Gen.Elements(true, false)
            from length in Gen.Choose(MinimumSteps, MinimumSteps + 1 + size / 3)
            from sequence in SequenceOf(config with { PostgresMajor = 17, SynchronizedStandbySlots = synchronizedStandbySlots }, length, healingTail: true)
            select sequence);

    /// <summary>
    /// WAL starts just below the points where <c>X/Y</c> gains a digit: 0/FFFFF00 (to 0/10000000), 0/FFFFFF00 and 0/FFFFFFF0
    /// (to 1/0, after which the low part is short again), F/FFFFFF00 (to 10/0). Across them the text and the numeric order of
    /// LSNs differ, so a comparison done on strings anywhere fails there.
    /// </summary>
    public static ImmutableArray<Lsn> WalBoundaryStarts { get; } =
        [new(0x0FFFFF00), new(0xFFFFFF00), new(0xFFFFFFF0), new(0xF_FFFFFF00)];

    /// <summary>
    /// The sequences of <see cref="Sequences()"/> on a cluster whose WAL starts near a digit boundary
    /// (<see cref="WalBoundaryStarts"/>, carried in the sequence as <c>initial_wal</c>, so a sequence replays from its seed and
    /// its file). A separate generator, so the default run's seeds keep giving the sequences they always gave.
    /// </summary>
    public static Gen<Sequence> WalBoundarySequences() =>
        Gen.Sized(size =>
            from start in Gen.Elements(WalBoundaryStarts.AsEnumerable())
            from config in Configs()
            from length in Gen.Choose(MinimumSteps, MinimumSteps + 1 + size / 3)
            from sequence in SequenceOf(config with { InitialWal = start }, length, healingTail: true)
            select sequence);

    /// <summary>
    /// The sequences of <see cref="Sequences()"/> with <c>reconcile ... last_confirmed</c> probes before half of their
    /// reconciles: one from before every slot (the initial WAL; slots are created past it), or one from after every slot
    /// (4 GiB past it, further than any sequence moves WAL), which on a missing slot is the re-created-without-gap case that
    /// plain reconciles never reach (creating a slot writes a record, so a re-created slot always starts past the consumer).
    /// A probe hands the reconciler its own position and moves nothing, but it re-creates a missing slot as any reconcile
    /// does. A separate generator, so the default run's seeds keep giving the sequences they always gave.
    /// </summary>
    public static Gen<Sequence> ProbeSequences() =>
        from sequence in Sequences()
        from steps in Gen.CollectToList(sequence.Steps, step => step is Reconcile { LastConfirmed: null } reconcile
            ? Gen.Frequency(
                (2, Gen.Constant((IReadOnlyList<Step>)[reconcile])),
                (1, Gen.Constant((IReadOnlyList<Step>)[reconcile with { LastConfirmed = ProbeBeforeEverySlot(sequence.Config) }, reconcile])),
                (1, Gen.Constant((IReadOnlyList<Step>)[reconcile with { LastConfirmed = ProbeAfterEverySlot(sequence.Config) }, reconcile])))
            : Gen.Constant((IReadOnlyList<Step>)[step]))
        select sequence with { Steps = [.. steps.SelectMany(s => s)] };

    /// <summary>A position before every slot of a sequence on <paramref name="config"/>: where its WAL starts.</summary>
    public static Lsn ProbeBeforeEverySlot(ClusterConfig config) => config.InitialWal ?? Model.Postgres.WalSizes.Initial;

    /// <summary>A position after every slot of a sequence on <paramref name="config"/>: 4 GiB past where its WAL starts.</summary>
    public static Lsn ProbeAfterEverySlot(ClusterConfig config) => ProbeBeforeEverySlot(config).Plus(1L << 32);

    /// <summary>Sequences whose length grows with FsCheck's size (4 to about 36 steps plus the healing tail).</summary>
    public static Gen<Sequence> Sequences() =>
        Gen.Sized(size =>
            from config in Configs()
            from length in Gen.Choose(MinimumSteps, MinimumSteps + 1 + size / 3)
            from sequence in SequenceOf(config, length, healingTail: true)
            select sequence);

    /// <summary>Sequences of exactly <paramref name="steps"/> steps on <paramref name="members"/> members (the benchmark's).</summary>
    public static Gen<Sequence> Sequences(int steps, int members) =>
        from config in Configs(members)
        from sequence in SequenceOf(config, steps, healingTail: false)
        select sequence;

    /// <summary>
    /// Sequences that end with a lagging-candidate episode: after a few ordinary steps, one replica is cut off (partition,
    /// freeze or kill) while the others are frozen or killed, the leader writes rows and megabytes of WAL, time passes (so the
    /// leader publishes its position to the DCS), the lagging replica comes back and the leader dies at once. Patroni must not
    /// promote a replica lagging more than maximum_lag_on_failover; this is where the durability property catches a model that
    /// does. A separate generator, so that the main one (and every replay string recorded against it) stays as it is.
    /// </summary>
    public static Gen<Sequence> LaggingCandidateSequences() =>
        from config in Configs()
        from prefixLength in Gen.Choose(0, 4)
        from prefix in Steps(GenerationState.Initial(config), prefixLength, ImmutableList<Step>.Empty)
        let state = Replay(config, prefix)
        from episode in LaggingCandidateEpisode(state)
        select new Sequence(config, [.. AppendAll(state, prefix, episode)]);

    private static Gen<IReadOnlyList<Step>> LaggingCandidateEpisode(GenerationState state)
    {
        var running = state.Running;
        var leader = state.BelievedLeader is { } believed && running.Contains(believed) ? believed : running[0];
        var candidates = running.Where(m => m != leader).ToArray();
        if (candidates.Length == 0)
        {
            return Gen.Constant((IReadOnlyList<Step>)[]);
        }
        return
            from lagging in Gen.Elements(candidates)
            from cut in Gen.Elements<Func<string, Step>>(m => new Partition(m), m => new Freeze(m), m => new Kill(m))
            from others in Gen.CollectToList(candidates.Where(m => m != lagging), m => Gen.Elements<Step>(new Freeze(m), new Kill(m)))
            from rows in Gen.Choose(1, 10)
            from wal in Gen.Elements(1_500_000L, 2_500_000L, 16_777_216L)
            from wait in Gen.Elements(30, 60)
            from death in Gen.Elements<Step>(new Kill(leader), new Freeze(leader), new Partition(leader))
            let cutStep = cut(lagging)
            let back = Recovery(cutStep)!
            select (IReadOnlyList<Step>)
            [
                cutStep, .. others, new Write(rows), new AdvanceWal(wal), new Wait(wait), back, death,
                new Wait(state.Config.Timings.Ttl * 3),
            ];
    }

    /// <summary>A sequence for <paramref name="config"/>: <paramref name="length"/> drawn steps, then maybe the healing tail.</summary>
    public static Gen<Sequence> SequenceOf(ClusterConfig config, int length, bool healingTail) =>
        from body in Steps(GenerationState.Initial(config), length, ImmutableList<Step>.Empty)
        from heal in healingTail ? Gen.Elements(true, false) : Gen.Constant(false)
        let state = Replay(config, body)
        let steps = heal ? AppendAll(state, body, HealingTail(state)) : body
        select new Sequence(config, [.. steps.Take(healingTail ? int.MaxValue : length)]);

    /// <summary>Heal every fault, settle, and reconcile every slot the consumer read.</summary>
    public static IReadOnlyList<Step> HealingTail(GenerationState state)
    {
        var steps = new List<Step>();
        foreach (var member in state.Faulty)
        {
            steps.Add(MemberFaults.Recovery(member, state.ConditionOf(member)) ?? new Heal(member));
        }
        steps.Add(new Settle());
        steps.AddRange(state.Consumed.Select(slot => new Reconcile(slot)));
        return steps;
    }

    private static Gen<ImmutableList<Step>> Steps(GenerationState state, int remaining, ImmutableList<Step> done) =>
        remaining <= 0
            ? Gen.Constant(done)
            : Chunk(state).SelectMany(chunk =>
            {
                var (next, after) = Append(state, done, chunk);
                return Steps(after, remaining - Math.Max(1, next.Count - done.Count), next);
            });

    /// <summary>Appends the steps that make sense in order, skipping the ones that don't.</summary>
    private static ImmutableList<Step> AppendAll(GenerationState state, ImmutableList<Step> done, IEnumerable<Step> chunk) =>
        Append(state, done, chunk).Steps;

    private static (ImmutableList<Step> Steps, GenerationState State) Append(GenerationState state, ImmutableList<Step> done, IEnumerable<Step> chunk)
    {
        foreach (var step in chunk)
        {
            if (state.Refusal(step) is null)
            {
                done = done.Add(step);
                state = state.After(step);
            }
        }
        return (done, state);
    }

    private static GenerationState Replay(ClusterConfig config, IEnumerable<Step> steps) => Replay(GenerationState.Initial(config), steps);

    private static GenerationState Replay(GenerationState state, IEnumerable<Step> steps)
    {
        foreach (var step in steps)
        {
            state = state.After(step);
        }
        return state;
    }

    /// <summary>One weighted choice: only the chosen one's generator is built (building all of them per step was the cost).</summary>
    private static Gen<IReadOnlyList<Step>> Chunk(GenerationState state)
    {
        var running = state.Running;
        var uncreated = GenerationState.SlotNames.Where(s => !state.Slots.Contains(s)).ToArray();
        var slots = state.Slots.ToArray();
        var choices = new List<(int Weight, Func<Gen<IReadOnlyList<Step>>> Make)>
        {
            (12, () => One(Gen.Choose(1, 20).Select(rows => (Step)new Write(rows)))),
            (8, () => One(Gen.Elements(WalMoves.AsEnumerable()).Select(bytes => (Step)new AdvanceWal(bytes)))),
            (2, () => One(Gen.Constant((Step)new Checkpoint()))),
            (5, () => One(Gen.Elements(WaitSeconds.AsEnumerable()).Select(s => (Step)new Wait(s)))),
            (3, () => One(Gen.Constant((Step)new Settle()))),
            (8, () => Episode(state)),
            (3, () => One(Patches(state).Select(p => (Step)new PatchConfig(p)))),
            (8, () => One(Gen.Elements(state.Consumed.Count > 0 ? state.Consumed.AsEnumerable() : GenerationState.SlotNames.AsEnumerable())
                .Select(s => (Step)new Reconcile(s)))),
            (2, () => One(Gen.Elements(running.AsEnumerable()).Select(m => (Step)new Failover(m)))),
            (2, () => One(Gen.Elements(running.AsEnumerable()).Select(m => (Step)new Restart(m)))),
        };
        if (uncreated.Length > 0)
        {
            choices.Add((6, () => One(from slot in Gen.Elements(uncreated)
                                      from permanent in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
                                      select (Step)new CreateSlot(slot, permanent))));
        }
        if (slots.Length > 0)
        {
            choices.Add((10, () => One(Gen.Elements(slots).Select(s => (Step)new Consume(s)))));
            choices.Add((1, () => One(Gen.Elements(slots).Select(s => (Step)new DropSlot(s)))));
        }
        if (running.Count >= 2)
        {
            choices.Add((5, () => One(from source in LeaderOr(state, running)
                                      from to in Gen.Elements(running.Where(m => m != source).Select(m => (string?)m).Append(null))
                                      select (Step)new Switchover(source, to))));
            choices.Add((4, () => One(Gen.Elements(running.AsEnumerable()).Select(m => (Step)new Kill(m)))));
            choices.Add((3, () => One(Gen.Elements(running.AsEnumerable()).Select(m => (Step)new Freeze(m)))));
            choices.Add((3, () => One(Gen.Elements(running.AsEnumerable()).Select(m => (Step)new Partition(m)))));
        }
        foreach (var (condition, make) in Recoveries)
        {
            var members = state.MembersIn(condition).ToArray();
            if (members.Length > 0)
            {
                choices.Add((6, () => One(Gen.Elements(members).Select(make))));
            }
        }
        var total = choices.Sum(c => c.Weight);
        return Gen.Choose(1, total).SelectMany(pick =>
        {
            foreach (var (weight, make) in choices)
            {
                if (pick <= weight)
                {
                    return make();
                }
                pick -= weight;
            }
            throw new InvalidOperationException("weights exhausted");
        });
    }

    private static readonly (MemberState Condition, Func<string, Step> Make)[] Recoveries =
        [.. new[] { MemberState.Stopped, MemberState.Frozen, MemberState.Partitioned }
            .Select(state => (state, (Func<string, Step>)(m => MemberFaults.Recovery(m, state)!)))];

    /// <summary>
    /// An episode: read a slot, move WAL, hit the leader (switchover, kill, freeze, partition or failover), let time pass,
    /// move WAL on whoever leads now, reconcile. This is where gaps, duplicates and divergence come from.
    /// </summary>
    private static Gen<IReadOnlyList<Step>> Episode(GenerationState state)
    {
        var running = state.Running;
        return
            from slot in Gen.Elements(state.Slots.Count > 0 ? state.Slots.AsEnumerable() : GenerationState.SlotNames.AsEnumerable())
            from rows in Gen.Choose(1, 10)
            from before in Gen.Elements(WalMoves.AsEnumerable())
            from leader in LeaderOr(state, running)
            from other in Gen.Elements(running.Where(m => m != leader).DefaultIfEmpty(leader))
            from fault in Gen.Frequency(
                (4, Gen.Constant((Step)new Switchover(leader, other))),
                (3, Gen.Constant((Step)new Kill(leader))),
                (2, Gen.Constant((Step)new Freeze(leader))),
                (2, Gen.Constant((Step)new Partition(leader))),
                (1, Gen.Constant((Step)new Failover(other))),
                (1, Gen.Constant((Step)new Restart(leader))),
                (1, Gen.Constant((Step)new PatchConfig(new ConfigPatch { PermanentSlots = state.Config.PermanentSlots.Contains(slot) ? state.Config.PermanentSlots.Remove(slot) : state.Config.PermanentSlots.Add(slot) }))))
            from pause in Gen.Frequency(
                (3, Gen.Constant((Step)new Wait(state.Config.Timings.Ttl + state.Config.Timings.LoopWait * 2))),
                (2, Gen.Constant((Step)new Settle())),
                (1, Gen.Elements(WaitSeconds.AsEnumerable()).Select(s => (Step)new Wait(s))))
            from after in Gen.Elements(WalMoves.AsEnumerable())
            from checkpoint in Gen.Elements(true, false)
            from recover in Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true)))
            let steps = new List<Step?>
            {
                state.Slots.Contains(slot) ? null : new CreateSlot(slot),
                new Write(rows),
                new Consume(slot),
                new AdvanceWal(before),
                fault,
                pause,
                new AdvanceWal(after),
                checkpoint ? new Checkpoint() : null,
                new Reconcile(slot),
                recover ? Recovery(fault) : null,
            }
            select (IReadOnlyList<Step>)[.. steps.OfType<Step>()];
    }

    private static Step? Recovery(Step fault) =>
        fault is MemberStep { Role: StepRole.Nemesis } m ? MemberFaults.Recovery(m.Member, MemberFaults.None.After(m).State) : null;

    /// <summary>The believed leader when known, else any running member (Patroni refuses a switchover from a non-leader: harmless).</summary>
    private static Gen<string> LeaderOr(GenerationState state, IReadOnlyList<string> running) =>
        state.BelievedLeader is { } leader && running.Contains(leader)
            ? Gen.Frequency((5, Gen.Constant(leader)), (1, Gen.Elements(running.AsEnumerable())))
            : Gen.Elements(running.AsEnumerable());

    /// <summary><c>PATCH /config</c> changes: permanent slots (which make Patroni reload its slot state), ignore_slots, lag, modes, timing.</summary>
    private static Gen<ConfigPatch> Patches(GenerationState state)
    {
        var config = state.Config;
        return Gen.Frequency(
            (4, Gen.Elements(GenerationState.SlotNames.Take(2).AsEnumerable()).Select(slot => new ConfigPatch
            {
                PermanentSlots = config.PermanentSlots.Contains(slot) ? config.PermanentSlots.Remove(slot) : config.PermanentSlots.Add(slot),
            })),
            (1, Gen.Constant(new ConfigPatch { IgnoreSlots = config.IgnoreSlots.IsEmpty ? ["s3"] : [] })),
            (2, Gen.Elements(65_536L, 1_048_576L, 16_777_216L).Select(lag => new ConfigPatch { MaximumLagOnFailover = lag })),
            (2, Gen.Elements(SynchronousMode.Off, SynchronousMode.On, SynchronousMode.Strict).Select(mode => new ConfigPatch { SynchronousMode = mode })),
            (1, Gen.Elements(Timings.AsEnumerable()).Select(t => new ConfigPatch { Ttl = t.Ttl, LoopWait = t.LoopWait, RetryTimeout = t.RetryTimeout })));
    }

    private static Gen<IReadOnlyList<Step>> One(Gen<Step> step) => step.Select(s => (IReadOnlyList<Step>)[s]);
}
