using Akka.Actor;

namespace PatroniModel.Model.Time;

/// <summary>
/// The model's virtual time: an equivalent of Akka.TestKit's <c>TestScheduler</c>, owned by one cluster.
/// Timers are delivered with <see cref="ICanTell.Tell"/> in (time, scheduling order), on the calling thread, so a run is
/// deterministic and takes no wall-clock time. Nothing in the model reads the wall clock.
/// </summary>
public sealed class VirtualClock
{
    private readonly PriorityQueue<Timer, (long At, long Sequence)> _queue = new();
    private long _sequence;

    /// <summary>Virtual milliseconds since the cluster was built.</summary>
    public long Now { get; private set; }

    /// <summary>Timers delivered so far (a cost measure for the benchmark).</summary>
    public long Delivered { get; private set; }

    /// <summary>Delivers <paramref name="message"/> to <paramref name="target"/> after <paramref name="delayMilliseconds"/>.</summary>
    public Timer Schedule(long delayMilliseconds, IActorRef target, object message)
    {
        var timer = new Timer(Now + Math.Max(0, delayMilliseconds), target, message);
        _queue.Enqueue(timer, (timer.At, _sequence++));
        return timer;
    }

    /// <summary>
    /// Delivers due timers in order until <paramref name="until"/> returns true after a delivery, or the next timer is past
    /// <paramref name="deadline"/> (then the clock stands at the deadline). Returns whether the condition was met.
    /// </summary>
    public bool RunUntil(long deadline, Func<bool>? until = null)
    {
        while (_queue.TryPeek(out var timer, out var key) && key.At <= deadline)
        {
            _queue.Dequeue();
            if (timer.Cancelled)
            {
                continue;
            }
            Now = timer.At;
            Delivered++;
            timer.Target.Tell(timer.Message, ActorRefs.NoSender);
            if (until is not null && until())
            {
                return true;
            }
        }
        Now = Math.Max(Now, deadline);
        return until is not null && until();
    }

    /// <summary>Lets <paramref name="milliseconds"/> of virtual time pass, delivering every timer due in it.</summary>
    public void Advance(long milliseconds) => RunUntil(Now + milliseconds);

    /// <summary>A scheduled delivery; <see cref="Cancel"/> makes the clock skip it.</summary>
    public sealed class Timer(long at, IActorRef target, object message)
    {
        public long At { get; } = at;
        public IActorRef Target { get; } = target;
        public object Message { get; } = message;
        public bool Cancelled { get; private set; }

        public void Cancel() => Cancelled = true;
    }
}
