using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Model.Members;

/// <summary>What the leader race needs to know about the member that asks: its name and its PostgreSQL's role and position.</summary>
internal sealed record RaceCandidate(string Name, bool IsPrimary, int Timeline, Lsn EndLsn);

/// <summary>
/// Patroni's <c>is_healthiest_node</c> (patroni/ha.py), checked before a member races for a free leader lease: a pure
/// policy over the DCS view and the other members' REST status (<c>GET /patroni</c>), so it is tested without actors.
/// </summary>
/// <param name="Config">The dynamic configuration the member last read (synchronous_mode, maximum_lag_on_failover).</param>
/// <param name="PreferredCandidate">When set, only this member races while it is reachable (the conformance runner follows reality's choice).</param>
/// <param name="IgnoreMaximumLag">A deliberately wrong model: race even beyond maximum_lag_on_failover.</param>
/// <param name="IsReachable">Whether a member answers (running, not frozen, not cut off).</param>
/// <param name="Members">Every member's REST status, read live, in a fixed order.</param>
internal sealed record LeaderRace(
    ClusterConfig Config,
    string? PreferredCandidate,
    bool IgnoreMaximumLag,
    Func<string, bool> IsReachable,
    IEnumerable<KeyValuePair<string, Func<RestStatus>>> Members)
{
    /// <summary>
    /// Whether <paramref name="self"/> may race for the free leader lease now; <paramref name="why"/> says why not. A primary that lost its lock only checks that
    /// its timeline is not behind the cluster's (so a thawed ex-leader cannot undo a promotion); a /failover key decides
    /// manual failovers and switchovers; with an active /sync key only the last leader and the sync standby race; then
    /// the lag against the last leader's optime and the wal positions of the other reachable members (a reachable primary
    /// disqualifies everyone). Like Patroni's default (check_timeline off), replicas compare wal positions only.
    /// </summary>
    public bool Eligible(RaceCandidate self, DcsView view, out string why)
    {
        why = "";
        if (self.IsPrimary)
        {
            if (self.Timeline < view.MaxTimeline)
            {
                why = $"its timeline {self.Timeline} is behind the cluster's timeline {view.MaxTimeline}";
                return false;
            }
            return true;
        }
        var syncActive = Config.SynchronousMode != SynchronousMode.Off && !view.Sync.IsEmpty;
        if (view.Failover is { } key)
        {
            if (key.Leader is not null && syncActive && !view.Sync.Matches(self.Name) && !key.AllowsAsyncCandidate(Config))
            {
                why = "switchover in synchronous mode: not a synchronous member";
                return false;
            }
            if (key.Candidate is not null)
            {
                why = $"the failover candidate is {key.Candidate}";
                return key.Candidate == self.Name;
            }
            if (key.Leader == self.Name)
            {
                why = "it is the former leader of a switchover";
                return false;
            }
            return Healthiest(self, view, checkLag: false, syncActive: false, exclude: key.Leader, out why);
        }
        if (PreferredCandidate is { } preferred && preferred != self.Name && IsReachable(preferred))
        {
            why = $"{preferred} is the preferred candidate";
            return false;
        }
        if (syncActive && !view.Sync.Matches(self.Name))
        {
            why = "synchronous mode: it is neither the last leader nor the synchronous standby";
            return false;
        }
        return Healthiest(self, view, checkLag: true, syncActive, exclude: null, out why);
    }

    private bool Healthiest(RaceCandidate self, DcsView view, bool checkLag, bool syncActive, string? exclude, out string why)
    {
        why = "";
        if (checkLag && !IgnoreMaximumLag
            && view.Optime.BytesAfter(self.EndLsn) > Config.MaximumLagOnFailover)
        {
            why = $"its position is more than maximum_lag_on_failover behind {view.Optime}";
            return false;
        }
        if (PreferredCandidate == self.Name)
        {
            return true;
        }
        foreach (var (name, rest) in Members)
        {
            if (name == self.Name || name == exclude || !IsReachable(name) || (syncActive && !view.Sync.Matches(name)))
            {
                continue;
            }
            var status = rest();
            if (status.IsPrimary)
            {
                why = $"the primary {name} is still alive";
                return false;
            }
            if (status.Lsn > self.EndLsn && !(syncActive && view.Sync.Leader == name))
            {
                why = $"{name} is ahead ({status.Lsn})";
                return false;
            }
        }
        return true;
    }
}
