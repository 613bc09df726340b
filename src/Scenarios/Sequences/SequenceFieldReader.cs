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

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or null when the field is absent.</summary>
    public long? OptionalLong(JsonElement element, string name, long min, long max)
    {
        if (!element.TryGetProperty(name, out _))
        {
            return null;
        }
        var value = Required(element, name, JsonValueKind.Number);
        return value.TryGetInt64(out var number) && number >= min && number <= max
            ? number
            : throw Error($"field '{name}' must be a whole number from {min} to {max}, found {Shorten(value.GetRawText())}");
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or null when the field is absent.</summary>
    public int? OptionalInt(JsonElement element, string name, int min, int max) => (int?)OptionalLong(element, name, min, max);

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/> that must be there.</summary>
    public int RequiredInt(JsonElement element, string name, int min, int max)
    {
        Required(element, name, JsonValueKind.Number);
        return OptionalInt(element, name, min, max)!.Value;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/> that must be there.</summary>
    public long RequiredLong(JsonElement element, string name, long min, long max)
    {
        Required(element, name, JsonValueKind.Number);
        return OptionalLong(element, name, min, max)!.Value;
    }

    /// <summary>A whole number that must be one of <paramref name="choices"/>, or null when the field is absent.</summary>
    public int? OptionalChoice(JsonElement element, string name, IReadOnlyList<int> choices)
    {
        if (!element.TryGetProperty(name, out _))
        {
            return null;
        }
        var value = Required(element, name, JsonValueKind.Number);
        return value.TryGetInt32(out var number) && choices.Contains(number)
            ? number
            : throw Error($"field '{name}' must be {string.Join(" or ", choices)}, found {Shorten(value.GetRawText())}");
    }

    /// <summary>A string of one line, at most <see cref="SequenceBounds.MaxTextLength"/> characters, or null when absent.</summary>
    public string? OptionalLine(JsonElement element, string name)
    {
        var text = OptionalString(element, name);
        if (text is null)
        {
            return null;
        }
        if (text.IndexOfAny(['\n', '\r', '\u0085', '\u2028', '\u2029']) >= 0)
        {
            throw Error($"field '{name}' must be one line, found a line break");
        }
        return text.Length <= SequenceBounds.MaxTextLength
            ? text
            : throw Error($"field '{name}' must be at most {SequenceBounds.MaxTextLength} characters, found {text.Length}");
    }

    /// <summary>A raw JSON value cut to 40 characters, for a message that quotes it.</summary>
    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..40] + "...";

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
        if (array.GetArrayLength() > ClusterConfig.MaxSlotsListed)
        {
            throw Error($"field '{name}' lists {array.GetArrayLength()} slots, at most {ClusterConfig.MaxSlotsListed}");
        }
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
