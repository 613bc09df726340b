using Akka.Actor;
using PatroniModel.Consumer.Positions;
using PatroniModel.Model.Protocol;
using PatroniModel.Model.World;
using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Model.Clients;

/// <summary>
/// The CDC consumer: reads a slot on the leader up to the current end of WAL, confirms that position
/// (the slot's confirmed_flush_lsn moves there) and persists it with the timeline it read it on.
/// Its persisted positions (a <see cref="ConsumerLedger"/>) are what the reconciler is given.
/// </summary>
public sealed class ConsumerActor : ReceiveActor
{
    private readonly ModelWorld _world;
    private readonly ConsumerLedger _ledger = new();
    private IActorRef _replyTo = ActorRefs.Nobody;

    public ConsumerActor(ModelWorld world)
    {
        _world = world;
        Receive<ConsumeOn>(m =>
        {
            _replyTo = m.ReplyTo;
            m.Leader.Tell(new ConsumeSlot(m.Slot));
        });
        Receive<SlotConsumed>(m =>
        {
            _ledger.Confirmed(new ConsumerPosition(m.Slot, m.Lsn, m.Timeline));
            _world.Record("consumer", ModelEventKinds.Consumed, $"{m.Slot} confirmed {m.Lsn} on {m.Member} tl{m.Timeline}");
            _replyTo.Tell(m);
        });
        Receive<PersistPosition>(m =>
        {
            if (m.Replace)
            {
                _ledger.Confirmed(m.Position);
                _world.Record("consumer", ModelEventKinds.Consumed, $"{m.Position.Slot} replaced by {m.Position.LastConfirmed} tl{m.Position.Timeline} ({m.Why})");
            }
            else if (_ledger.Advance(m.Position))
            {
                _world.Record("consumer", ModelEventKinds.Consumed, $"{m.Position.Slot} persisted {m.Position.LastConfirmed} tl{m.Position.Timeline} ({m.Why})");
            }
        });
        Receive<MemberAnswer>(m => _replyTo.Tell(m));
        Receive<InspectConsumer>(_ => Sender.Tell(new ConsumerInspection(_ledger.Positions)));
    }

    public static Props Props(ModelWorld world) => ActorFactory<ConsumerActor>.Props(() => new ConsumerActor(world));
}
