using Akka.Configuration;
using Akka.Dispatch;
using Akka.TestKit;

namespace PatroniModel.Model.Runtime;

/// <summary>
/// Akka.TestKit's calling-thread dispatcher, one instance for every model actor. TestKit's own configurator makes a new
/// dispatcher per actor, and each one schedules its shutdown on the real scheduler when its actor stops: too costly for
/// a fresh actor tree per sequence.
/// </summary>
public sealed class SharedCallingThreadDispatcherConfigurator : MessageDispatcherConfigurator
{
    private readonly MessageDispatcher _dispatcher;

    public SharedCallingThreadDispatcherConfigurator(Config config, IDispatcherPrerequisites prerequisites)
        : base(config, prerequisites)
    {
        _dispatcher = new CallingThreadDispatcher(this);
    }

    public override MessageDispatcher Dispatcher() => _dispatcher;
}
