using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PatroniModel.Tests.E2E.Conformance;

/// <summary>Each conformance run's time and verdict, printed as one line when the collection ends.</summary>
public sealed class ConformanceTimings(IMessageSink sink) : IDisposable
{
    private readonly List<(string Name, TimeSpan Took, TimeSpan BringUp, string Verdict)> _runs = [];

    public void Add(string name, TimeSpan took, TimeSpan bringUp, string verdict)
    {
        lock (_runs)
        {
            _runs.Add((name, took, bringUp, verdict));
        }
    }

    public void Dispose()
    {
        lock (_runs)
        {
            var total = _runs.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Took);
            sink.OnMessage(new DiagnosticMessage(
                "conformance timings: " + string.Join("; ", _runs.Select(r => $"{r.Name} {r.Took.TotalSeconds:F1}s (bring-up {r.BringUp.TotalSeconds:F1}s) {r.Verdict}"))
                + $"; total {total.TotalSeconds:F1}s over {_runs.Count} real runs"));
        }
    }
}

/// <summary>The conformance tests: each builds real clusters of its own, one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ConformanceCollection : ICollectionFixture<ConformanceTimings>
{
    public const string Name = "conformance on fresh real clusters";
}
