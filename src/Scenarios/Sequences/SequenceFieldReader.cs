using System.Collections.Immutable;
using System.Text.Json;
using PatroniModel.Scenarios.Configuration;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Scenarios.Sequences;

/// <summary>Typed field access that fails with the file, the step index and the field.</summary>
internal sealed class SequenceFieldReader(string source, int? stepIndex)
{
    public SequenceFormatException Error(string reason) => new(source, stepIndex, reason);

    public void RejectUnknown(JsonElement element, IReadOnlyCollection<string> known, string where)
    {
        RejectDuplicates(element, where);
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw Error($"{where}: unknown field '{property.Name}' (known: {string.Join(", ", known)})");
            }
        }
    }

    /// <summary>A field given twice in one object is an error, not "the last wins"; <paramref name="where"/> may be empty (a step: the index says where).</summary>
    public void RejectDuplicates(JsonElement element, string where)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw Error(where.Length == 0 ? $"field '{property.Name}' given twice" : $"{where}: field '{property.Name}' given twice");
            }
        }
    }

    public JsonElement Required(JsonElement element, string name, JsonValueKind kind)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            throw Error($"missing field '{name}'");
        }
        if (value.ValueKind != kind)
        {
            throw Error($"field '{name}' must be {Describe(kind)}, found {Describe(value.ValueKind)}");
        }
        return value;
    }

    public string RequiredString(JsonElement element, string name) => Required(element, name, JsonValueKind.String).GetString()!;

    public string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out _) ? RequiredString(element, name) : null;

    public bool? OptionalBool(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error($"field '{name}' must be true or false, found {Describe(value.ValueKind)}"),
        };
    }

    public long? OptionalLong(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out _))
        {
            return null;
        }
        var value = Required(element, name, JsonValueKind.Number);
        return value.TryGetInt64(out var number) && number >= 0
            ? number
            : throw Error($"field '{name}' must be a whole number >= 0, found {value.GetRawText()}");
    }

    public int? OptionalInt(JsonElement element, string name)
    {
        var value = OptionalLong(element, name);
        return value is null ? null : value <= int.MaxValue ? (int)value : throw Error($"field '{name}' is too large: {value}");
    }

    public int RequiredPositiveInt(JsonElement element, string name)
    {
        Required(element, name, JsonValueKind.Number);
        var value = OptionalInt(element, name)!.Value;
        return value > 0 ? value : throw Error($"field '{name}' must be > 0, found {value}");
    }

    public long RequiredPositiveLong(JsonElement element, string name)
    {
        Required(element, name, JsonValueKind.Number);
        var value = OptionalLong(element, name)!.Value;
        return value > 0 ? value : throw Error($"field '{name}' must be > 0, found {value}");
    }

    public SynchronousMode? OptionalSynchronousMode(JsonElement element, string name)
    {
        var text = OptionalString(element, name);
        if (text is null)
        {
            return null;
        }
        return SynchronousModeNames.TryParse(text, out var mode)
            ? mode
            : throw Error($"field '{name}' is '{text}', expected off, on or strict");
    }

    public Lsn? OptionalLsn(JsonElement element, string name)
    {
        var text = OptionalString(element, name);
        if (text is null)
        {
            return null;
        }
        return Lsn.TryParse(text, out var lsn)
            ? lsn
            : throw Error($"field '{name}' is '{text}', not an LSN (X/Y in hex, e.g. 0/3000060)");
    }

    public string SlotName(JsonElement element, string name)
    {
        var slot = RequiredString(element, name);
        return SlotDefaults.IsValidSlotName(slot)
            ? slot
            : throw Error($"invalid slot name '{slot}' ({SlotDefaults.SlotNameRule})");
    }

    public ImmutableArray<string>? OptionalSlots(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out _))
        {
            return null;
        }
        var array = Required(element, name, JsonValueKind.Array);
        var slots = ImmutableArray.CreateBuilder<string>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !SlotDefaults.IsValidSlotName(item.GetString()))
            {
                throw Error($"field '{name}' holds '{item.GetRawText()}', not a valid slot name ({SlotDefaults.SlotNameRule})");
            }
            slots.Add(item.GetString()!);
        }
        return slots.ToImmutable();
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "true or false",
        JsonValueKind.Null => "null",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
