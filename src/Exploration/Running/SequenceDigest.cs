using System.Security.Cryptography;
using System.Text;
using PatroniModel.Scenarios.Sequences;

namespace PatroniModel.Exploration.Running;

/// <summary>
/// A short fingerprint of a sequence's canonical file text. A <c>[Property(Replay = ...)]</c> regression test checks it, so that
/// a change to the generators (which makes an old replay string produce another sequence) fails loudly instead of
/// silently testing something else.
/// </summary>
public static class SequenceDigest
{
    public static string Of(Sequence sequence) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SequenceFile.Write(sequence with { Description = "", Origin = "" }))))[..12];
}
