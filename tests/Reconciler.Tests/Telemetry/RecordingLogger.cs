using Microsoft.Extensions.Logging;

namespace PatroniModel.Tests.ReconcilerTests.Telemetry;

/// <summary>An <see cref="ILogger"/> that keeps each formatted line as <c>Level message</c>.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{logLevel} {formatter(state, exception)}");
        }
    }
}
