namespace PatroniModel.Reconciler.Naming;

/// <summary>
/// PostgreSQL's rule for replication slot names (<c>ReplicationSlotValidateName</c>: lower-case letters, digits and
/// underscores, 1 to 63 characters). Checked before any SQL or file name is built from a slot name.
/// </summary>
public static class SlotName
{
    /// <summary>PostgreSQL's limit: NAMEDATALEN - 1.</summary>
    public const int MaxLength = 63;

    public static bool IsValid(string? slot) =>
        slot is { Length: >= 1 and <= MaxLength } && slot.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    /// <summary>Returns <paramref name="slot"/> when valid; throws <see cref="Endpoints.InvalidSlotNameException"/> otherwise.</summary>
    public static string Validate(string? slot) =>
        IsValid(slot) ? slot! : throw new Endpoints.InvalidSlotNameException(slot);
}
