using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Scenarios.Faults;

/// <summary>
/// What the nemesis has done to one member: killed (<c>docker kill</c>, not started again), frozen (<c>docker pause</c>)
/// and cut off the network (<c>docker network disconnect</c>). The three are independent (a partitioned member may be
/// killed and stays partitioned), and this type is the one place that says which nemesis step a member's faults allow and
/// what the step does to them; the model, the real cluster and the generators ask it.
/// </summary>
public readonly record struct MemberFaults(bool Stopped, bool Frozen, bool Partitioned)
{
    /// <summary>A member nothing has been done to.</summary>
    public static MemberFaults None => default;

    /// <summary>The faults folded into one state, the strongest first: stopped, frozen, partitioned, else running.</summary>
    public MemberState State =>
        Stopped ? MemberState.Stopped
        : Frozen ? MemberState.Frozen
        : Partitioned ? MemberState.Partitioned
        : MemberState.Running;

    /// <summary>Running, not frozen, not cut off: others (the DCS, the members, the client) can talk to it.</summary>
    public bool Reachable => State == MemberState.Running;

    /// <summary><see cref="State"/> in lower case, as refusals and histories write it.</summary>
    public string Describe() => Describe(State);

    /// <summary>A member state in lower case, as refusals and histories write it.</summary>
    public static string Describe(MemberState state) => state switch
    {
        MemberState.Running => "running",
        MemberState.Stopped => "stopped",
        MemberState.Frozen => "frozen",
        MemberState.Partitioned => "partitioned",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Why <paramref name="step"/> cannot act on a member with these faults (a thaw of a member that is not frozen, a
    /// restart through a REST API that does not answer...), or null when it can. Steps that act on no member's faults: null.
    /// </summary>
    public string? Refusal(MemberStep step) => step switch
    {
        Kill when Stopped => $"{step.Member} is already stopped",
        Start when !Stopped => $"{step.Member} is already running ({Describe()})",
        Freeze when Stopped || Frozen => $"{step.Member} is {Describe()}",
        Thaw when !Frozen => $"{step.Member} is not frozen ({Describe()})",
        Partition when Partitioned => $"{step.Member} is already partitioned",
        Heal when !Partitioned => $"{step.Member} is not partitioned",
        Restart when !Reachable => $"{step.Member}'s REST API does not answer ({Describe()})",
        _ => null,
    };

    /// <summary>
    /// The faults after <paramref name="step"/> (assumed allowed, see <see cref="Refusal"/>): a kill also ends a freeze
    /// (the paused processes die), a start, thaw or heal undoes its own fault only; a restart changes none.
    /// </summary>
    public MemberFaults After(MemberStep step) => step switch
    {
        Kill => this with { Stopped = true, Frozen = false },
        Start => this with { Stopped = false },
        Freeze => this with { Frozen = true },
        Thaw => this with { Frozen = false },
        Partition => this with { Partitioned = true },
        Heal => this with { Partitioned = false },
        _ => this,
    };

    /// <summary>The nemesis step that undoes the fault <paramref name="state"/> names (start, thaw, heal), or null for running.</summary>
    public static MemberStep? Recovery(string member, MemberState state) => state switch
    {
        MemberState.Stopped => new Start(member),
        MemberState.Frozen => new Thaw(member),
        MemberState.Partitioned => new Heal(member),
        _ => null,
    };

    public override string ToString() => Describe();
}
