using PatroniModel.Scenarios.Configuration;
using Xunit;

namespace PatroniModel.Tests.ScenariosTests.Configuration;

/// <summary>
/// The ttl, loop_wait and retry_timeout Patroni runs with: Patroni 3.0.2 takes them as given, Patroni 4 adjusts them
/// (config.py _validate_and_adjust_timeouts: ttl at least 20, retry_timeout at least 3, loop_wait + 2 * retry_timeout
/// within ttl).
/// </summary>
public sealed class PatroniTimingsTests
{
    [Theory]
    [InlineData(15, 6, 1, 2, 6, 1, 2)]
    [InlineData(15, 10, 2, 4, 10, 2, 4)]
    [InlineData(17, 6, 1, 2, 20, 1, 3)]
    [InlineData(17, 10, 2, 4, 20, 2, 4)]
    [InlineData(17, 12, 3, 4, 20, 3, 4)]
    [InlineData(17, 30, 15, 10, 30, 10, 10)]
    [InlineData(17, 20, 1, 10, 20, 1, 9)]
    [InlineData(17, 40, 10, 10, 40, 10, 10)]
    public void Timings_AreTheConfiguredOnesOnPatroni3_AndAdjustedOnPatroni4(int postgres, int ttl, int loopWait, int retryTimeout,
        int runningTtl, int runningLoopWait, int runningRetryTimeout)
    {
        var config = ClusterConfig.Default with { PostgresMajor = postgres, Ttl = ttl, LoopWait = loopWait, RetryTimeout = retryTimeout };

        Assert.Equal(new PatroniTimings(runningTtl, runningLoopWait, runningRetryTimeout), config.Timings);
    }
}
