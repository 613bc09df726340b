using System.Diagnostics;
using PatroniModel.RealCluster.Clusters;
using PatroniModel.RealCluster.Docker;
using PatroniModel.RealCluster.Waiting;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PatroniModel.Tests.E2E.Fixtures;

/// <summary>
/// One real cluster (etcd + 3 Patroni members, ttl 6 / loop_wait 1 / retry_timeout 2) shared by every scenario of the
/// <see cref="RealClusterCollection"/>: bring-up is paid once; each scenario starts from <see cref="PatroniCluster.ResetAsync"/>.
/// When no Docker engine answers or the image is missing, every scenario fails with that one line.
/// </summary>
public sealed class SharedClusterFixture(IMessageSink sink) : IAsyncLifetime
{
    private readonly List<string> _bringUpLog = [];
    private PatroniCluster? _cluster;
    private Exception? _unavailable;

    /// <summary>The shared cluster: 3 members, ttl 6 / loop_wait 1 / retry_timeout 2 (measured stable here with two CPU hogs running), etcd v2.</summary>
    public static PatroniClusterBuilder Builder { get; } = new PatroniClusterBuilder().WithMembers(3).WithTtl(6).WithLoopWait(1).WithRetryTimeout(2);

    /// <summary>How long bring-up took.</summary>
    public TimeSpan BringUp { get; private set; }

    /// <summary>Each scenario's name and time, in the order they ran.</summary>
    public List<(string Scenario, TimeSpan Took, bool Passed)> Timings { get; } = [];

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        try
        {
            _cluster = await Builder.WithLog(line => { lock (_bringUpLog) { _bringUpLog.Add(line); } }).BuildAsync();
        }
        catch (DockerEngineUnavailableException e)
        {
            _unavailable = e;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _unavailable = new InvalidOperationException($"the shared Patroni cluster did not come up: {e.Message}", e);
        }
        BringUp = watch.Elapsed;
        sink.OnMessage(new DiagnosticMessage($"shared cluster bring-up took {BringUp.TotalSeconds:F1}s"));
    }

    /// <summary>Runs one scenario on the shared cluster: reset, body, timing; on failure, evidence in artifacts/e2e/&lt;scenario&gt;/&lt;utc&gt;/.</summary>
    public async Task RunAsync(ITestOutputHelper output, string scenario, Func<PatroniCluster, Task> body)
    {
        if (_unavailable is not null)
        {
            throw new XunitException(_unavailable.Message);
        }
        var cluster = _cluster!;
        void Write(string line)
        {
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
            }
        }
        lock (_bringUpLog)
        {
            if (_bringUpLog.Count > 0)
            {
                Write($"shared cluster bring-up took {BringUp.TotalSeconds:F1}s:");
                _bringUpLog.ForEach(Write);
                _bringUpLog.Clear();
            }
        }
        cluster.Log = Write;
        var watch = Stopwatch.StartNew();
        var passed = false;
        try
        {
            IReadOnlyList<long> forgotten;
            try
            {
                forgotten = await cluster.ResetAsync();
            }
            catch (ClusterWaitTimeoutException e)
            {
                // An earlier scenario left the cluster unhealable: keep its evidence and start this one on a fresh cluster.
                Write($"reset failed, replacing the shared cluster: {e.Message.Split('\n')[0]}");
                await cluster.SaveEvidenceAsync($"{scenario}.reset", e);
                await cluster.DisposeAsync();
                _cluster = cluster = await Builder.WithLog(Write).BuildAsync();
                forgotten = [];
            }
            Write($"== {scenario}: reset took {watch.Elapsed.TotalSeconds:F1}s" + (forgotten.Count > 0 ? $" (forgot {forgotten.Count} acknowledged rows an earlier scenario lost)" : ""));
            await body(cluster);
            passed = true;
        }
        catch (Exception e)
        {
            await cluster.SaveEvidenceAsync(scenario, e);
            throw;
        }
        finally
        {
            lock (Timings)
            {
                Timings.Add((scenario, watch.Elapsed, passed));
            }
            Write($"== {scenario}: {(passed ? "passed" : "FAILED")} in {watch.Elapsed.TotalSeconds:F1}s (bring-up of the shared cluster: {BringUp.TotalSeconds:F1}s)");
            cluster.Log = null;
        }
    }

    /// <summary>
    /// Runs one scenario on a cluster of its own (a different configuration), built from <paramref name="builder"/> and
    /// removed afterwards; on failure the evidence is kept like for shared scenarios.
    /// </summary>
    public async Task RunOnOwnClusterAsync(ITestOutputHelper output, string scenario, PatroniClusterBuilder builder, Func<PatroniCluster, Task> body)
    {
        if (_unavailable is DockerEngineUnavailableException)
        {
            throw new XunitException(_unavailable.Message);
        }
        void Write(string line)
        {
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
            }
        }
        var watch = Stopwatch.StartNew();
        var passed = false;
        try
        {
            await using var cluster = await builder.WithLog(Write).BuildAsync();
            try
            {
                await body(cluster);
                passed = true;
            }
            catch (Exception e)
            {
                await cluster.SaveEvidenceAsync(scenario, e);
                throw;
            }
            finally
            {
                cluster.Log = Write;
            }
        }
        catch (DockerEngineUnavailableException e)
        {
            throw new XunitException(e.Message);
        }
        finally
        {
            lock (Timings)
            {
                Timings.Add((scenario, watch.Elapsed, passed));
            }
            Write($"== {scenario}: {(passed ? "passed" : "FAILED")} in {watch.Elapsed.TotalSeconds:F1}s, bring-up and removal of its own cluster included");
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        lock (Timings)
        {
            var total = Timings.Aggregate(BringUp, (sum, t) => sum + t.Took);
            sink.OnMessage(new DiagnosticMessage(
                $"timings: bring-up {BringUp.TotalSeconds:F1}s; " + string.Join("; ", Timings.Select(t => $"{t.Scenario} {t.Took.TotalSeconds:F1}s{(t.Passed ? "" : " FAILED")}"))
                + $"; total {total.TotalSeconds:F1}s"));
        }
    }
}

/// <summary>The scenarios that share one real cluster; xunit runs them one after another.</summary>
[CollectionDefinition(Name)]
public sealed class RealClusterCollection : ICollectionFixture<SharedClusterFixture>
{
    public const string Name = "real Patroni cluster";
}
