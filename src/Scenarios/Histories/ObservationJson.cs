using System.Text.Json;
using System.Text.Json.Serialization;
using PatroniModel.Scenarios.Clusters;
using PatroniModel.Scenarios.Wal;

using PatroniModel.Scenarios.Observations;

namespace PatroniModel.Scenarios.Histories;

/// <summary>
/// Serializes observations and step results as one-line JSON (Jepsen-style history.jsonl), LSNs printed <c>X/Y</c>,
/// enums as lower-case names. Deterministic: the same observation gives the same bytes.
/// </summary>
public static class ObservationJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize(Observation observation) => JsonSerializer.Serialize(observation, Options);

    /// <summary>One history record: the step's index, its line, status, detail, reconcile outcome and the observation after it.</summary>
    public static string HistoryRecord(int index, StepResult result, Observation after, string side) =>
        JsonSerializer.Serialize(
            new HistoryLine(index, side, result.Step.Kind, result.Step.ToString(), result.Status.ToString().ToLowerInvariant(), result.Detail, result.Reconcile, after),
            Options);

    private sealed record HistoryLine(
        int Index, string Side, string Kind, string Step, string Status, string Detail, ReconcileObservation? Reconcile, Observation Observation);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = false,
        };
        options.Converters.Add(new LsnConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }

    private sealed class LsnConverter : JsonConverter<Lsn>
    {
        public override Lsn Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Lsn.Parse(reader.GetString() ?? throw new JsonException("LSN expected"));

        public override void Write(Utf8JsonWriter writer, Lsn value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }
}
