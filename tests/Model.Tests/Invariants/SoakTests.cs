using PatroniModel.Model;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Faults;
using PatroniModel.Scenarios.Observations;
using PatroniModel.Tests.ModelTests.Support;
using Xunit;

namespace PatroniModel.Tests.ModelTests.Invariants;

/// <summary>
/// Many seeded sequences over every configuration axis (3/5/7 members, synchronous off/on/strict, ttl 10/6, replication
/// lag), each checked after every step and repaired at the end. It found the thawed ex-leader that took a released lease back.
/// </summary>
public sealed class SoakTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void ManySequences_KeepTheInvariants_AndTheRepairedClusterConverges()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            // Given a configuration chosen by the seed
            var mode = (SynchronousMode)(seed / 3 % 3);
            var fast = seed % 2 == 1;
            var config = ClusterConfig.Default with
            {
                Members = new[] { 3, 5, 7 }[seed % 3],
                SynchronousMode = mode,
                Ttl = fast ? 6 : 10,
                LoopWait = fast ? 1 : 2,
                RetryTimeout = fast ? 2 : 4,
            };
            var options = new ModelOptions { MaxReplicationDelayMilliseconds = seed % 5 == 0 ? 500 : 0 };
            using var cluster = fixture.Runtime.CreateCluster(config, seed, options);
            string Context(Step step) => $"seed {seed} ({config.Members} members, {mode}, ttl {config.Ttl}, lag {options.MaxReplicationDelayMilliseconds}) after {step}{cluster.Why()}";

            // When 40 steps run, then every member is repaired
            RandomSequences.Run(cluster, seed, 40, (step, _) =>
            {
                // Then no replica is ahead of its primary, and in strict synchronous mode no acknowledged row is ever lost
                var all = cluster.InspectMembers();
                foreach (var primary in all.Where(m => m.Running && m.IsPrimary))
                {
                    Assert.All(
                        all.Where(m => m.Running && !m.IsPrimary && m.Streaming && m.Upstream == primary.Name && m.Timeline == primary.Timeline),
                        replica => Assert.True(replica.EndLsn <= primary.EndLsn, Context(step)));
                }
                if (mode == SynchronousMode.Strict)
                {
                    Assert.True(cluster.Observe().LostAcknowledged.IsEmpty, Context(step));
                }
            });
            foreach (var name in config.MemberNames)
            {
                foreach (var repair in new Step[] { new Thaw(name), new Heal(name), new Start(name) })
                {
                    cluster.Apply(repair);
                }
            }
            var settle = cluster.Apply(new Settle());
            Assert.True(settle.Status == StepStatus.Ok, $"{settle.Detail}; {Context(settle.Step)}");
            cluster.Apply(new Write(1));
            cluster.Apply(new Settle());
            cluster.Apply(new Wait(1));

            // And the repaired cluster converges to one digest, and the lease was never held twice
            var observation = cluster.Observe();
            Assert.True(observation.Members.Select(m => m.Digest).Distinct().Count() == 1, Context(new Settle()));
            string? holder = null;
            foreach (var e in cluster.Trace)
            {
                if (e.Kind == ModelEventKinds.LeaseAcquired)
                {
                    Assert.True(holder is null || holder == e.Member, $"{e} while {holder} holds the lease; {Context(new Settle())}");
                    holder = e.Member;
                }
                else if (e.Kind == ModelEventKinds.LeaseExpired)
                {
                    holder = null;
                }
            }
        }
    }
}
