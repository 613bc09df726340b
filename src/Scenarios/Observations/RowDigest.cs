using System.Security.Cryptography;
using System.Text;

namespace PatroniModel.Scenarios.Observations;

/// <summary>
/// The committed-rows digest. The client's rows are <c>(id, payload)</c> with a payload fixed by the id, and the digest is
/// the md5 of <c>id:payload</c> joined by commas in id order, exactly what the real cluster computes with
/// <see cref="Sql"/>, so the model's and reality's digests of the same rows are equal.
/// </summary>
public static class RowDigest
{
    /// <summary>The table the client writes to.</summary>
    public const string Table = "pm_rows";

    /// <summary>SQL computing the digest on a member.</summary>
    public const string Sql =
        "SELECT coalesce(md5(string_agg(id::text || ':' || payload, ',' ORDER BY id)), md5('')), count(*)::int FROM " + Table;

    /// <summary>The payload the client writes for a row id.</summary>
    public static string Payload(long id) => $"row-{id}";

    public static string Compute(IEnumerable<long> rowIds)
    {
        var text = string.Join(',', rowIds.Order().Select(id => $"{id}:{Payload(id)}"));
        return Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
