using PatroniModel.Reconciler.Reports;

namespace PatroniModel.Reconciler.Positions;

/// <summary>
/// Where a CDC consumer persists its last confirmed position per slot, so the reconciler can compare it with the slot
/// after a restart or a failover. A position never goes backwards; a damaged store is an error, never a silent reset
/// (a reset would turn a gap into "Created, no alarm").
/// </summary>
public interface IConsumerPositionStore
{
    /// <summary>The stored position of <paramref name="slot"/>, or null when none was ever saved.</summary>
    /// <exception cref="PositionStoreCorruptException">The stored record can't be read.</exception>
    Task<ConfirmedPosition?> LoadAsync(string slot, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="position"/> durably; saving the same position again is a no-op.</summary>
    /// <exception cref="PositionWentBackwardsException">The position is below the stored one; nothing was changed.</exception>
    /// <exception cref="PositionStoreCorruptException">The stored record can't be read; nothing was changed.</exception>
    Task SaveAsync(string slot, ConfirmedPosition position, CancellationToken cancellationToken = default);
}

/// <summary>A stored position could not be read: the file is named so an operator can look at it.</summary>
public sealed class PositionStoreCorruptException(string path, string reason, Exception? inner = null)
    : Exception($"consumer position file {path} is corrupt: {reason} (fix or remove it by hand; it is never reset silently)", inner)
{
    public string Path { get; } = path;
}

/// <summary>A save would move a consumer's position backwards.</summary>
public sealed class PositionWentBackwardsException(string slot, ConfirmedPosition stored, ConfirmedPosition attempted)
    : Exception($"consumer position of slot {slot} would go backwards from {stored} to {attempted}; the stored position is kept")
{
    public string Slot { get; } = slot;
    public ConfirmedPosition Stored { get; } = stored;
    public ConfirmedPosition Attempted { get; } = attempted;
}
