using System.Text.Json;
using NpgsqlTypes;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Reconciler.Slots;
using PatroniModel.Reconciler.Naming;

namespace PatroniModel.Reconciler.Positions;

/// <summary>
/// One JSON file per slot (<c>&lt;slot&gt;.position.json</c>) in <see cref="Directory"/>:
/// <c>{"format":"patroni-model/position@1","slot":"s1","lsn":"0/3000060","timeline":1}</c>.
/// </summary>
/// <remarks>
/// A save writes a temporary file in the same directory, fsyncs it, renames it over the old one (atomic on POSIX),
/// then fsyncs the directory where the platform allows it, so a crash leaves either the old or the new position,
/// never half of one. Saves are serialized, in one store instance and, by an flock(2) on the directory, across
/// instances and processes; the position never goes backwards.
/// </remarks>
public sealed class FilePositionStore : IConsumerPositionStore
{
    /// <summary>The value of the <c>format</c> field.</summary>
    public const string Format = "patroni-model/position@1";

    private const string Suffix = ".position.json";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IPositionFiles _files;

    public FilePositionStore(string directory)
        : this(directory, PositionFiles.Posix)
    {
    }

    /// <summary>A store whose saves go through <paramref name="files"/> (tests stop a save between any two calls: a crash).</summary>
    internal FilePositionStore(string directory, IPositionFiles files)
    {
        Directory = Path.GetFullPath(directory ?? throw new ArgumentNullException(nameof(directory)));
        _files = files;
    }

    public string Directory { get; }

    /// <summary>The file that holds <paramref name="slot"/>'s position (the name is validated first, so it can't escape the directory).</summary>
    public string PathOf(string slot) => Path.Combine(Directory, SlotName.Validate(slot) + Suffix);

    /// <inheritdoc />
    public async Task<ConfirmedPosition?> LoadAsync(string slot, CancellationToken cancellationToken = default)
    {
        var path = PathOf(slot);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAsync(slot, path, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(string slot, ConfirmedPosition position, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(position);
        var path = PathOf(slot);
        if (position.Timeline is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position.Timeline, "a timeline is 1 or more");
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using var directoryLock = await _files.LockAsync(Directory, cancellationToken).ConfigureAwait(false);
            var stored = await ReadAsync(slot, path, cancellationToken).ConfigureAwait(false);
            if (stored is not null && position.Lsn < stored.Lsn)
            {
                throw new PositionWentBackwardsException(slot, stored, position);
            }
            if (stored == position)
            {
                return;
            }
            await WriteAtomicallyAsync(path, Serialize(slot, position), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static byte[] Serialize(string slot, ConfirmedPosition position)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteString("slot", slot);
            writer.WriteString("lsn", position.Lsn.ToString());
            if (position.Timeline is { } timeline)
            {
                writer.WriteNumber("timeline", timeline);
            }
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static async Task<ConfirmedPosition?> ReadAsync(string slot, string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new PositionStoreCorruptException(path, bytes.Length == 0 ? "the file is empty" : $"not JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PositionStoreCorruptException(path, "expected a JSON object");
            }
            var format = Text(root, "format");
            if (format != Format)
            {
                throw new PositionStoreCorruptException(path, $"format is '{format}', expected '{Format}'");
            }
            var storedSlot = Text(root, "slot");
            if (storedSlot != slot)
            {
                throw new PositionStoreCorruptException(path, $"it holds slot '{storedSlot}', not '{slot}'");
            }
            var lsnText = Text(root, "lsn");
            if (lsnText is null || !NpgsqlLogSequenceNumber.TryParse(lsnText, out var lsn))
            {
                throw new PositionStoreCorruptException(path, $"lsn '{lsnText}' is not an LSN (X/Y in hex)");
            }
            int? timeline = null;
            if (root.TryGetProperty("timeline", out var tl) && tl.ValueKind != JsonValueKind.Null)
            {
                if (tl.ValueKind != JsonValueKind.Number || !tl.TryGetInt32(out var t) || t < 1)
                {
                    throw new PositionStoreCorruptException(path, $"timeline {tl.GetRawText()} is not a timeline (an integer, 1 or more)");
                }
                timeline = t;
            }
            return new ConfirmedPosition(lsn, timeline);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// Temporary file in the same directory (so the rename stays on one file system), written and fsynced; renamed over
    /// the old file (rename(2) replaces the name atomically: a reader, or a hard link to the old file, sees the old
    /// content or the new, never a mix); then the directory fsynced so the rename itself is durable.
    /// </summary>
    private async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(Directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await _files.WriteDurablyAsync(temporary, content, cancellationToken).ConfigureAwait(false);
            _files.Rename(temporary, path);
            _files.SyncDirectory(Directory);
        }
        finally
        {
            _files.DeleteIfExists(temporary);
        }
    }
}
