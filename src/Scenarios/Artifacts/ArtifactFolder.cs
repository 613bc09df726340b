using System.Globalization;

namespace PatroniModel.Scenarios.Artifacts;

/// <summary>
/// Where runs leave their evidence: <c>artifacts/&lt;kind&gt;/&lt;utc&gt;/</c> under the repository root (property failures,
/// replays, E2E tests). The one helper that finds the root and makes a fresh folder.
/// </summary>
public static class ArtifactFolder
{
    /// <summary>
    /// <c>PATRONI_MODEL_ARTIFACTS</c> when set, else the repository's <c>artifacts</c> folder (found by walking up to
    /// <c>PatroniModel.sln</c> from the current directory, then from the program's own directory), else
    /// <c>./artifacts</c>.
    /// </summary>
    public static string Root
    {
        get
        {
            if (Environment.GetEnvironmentVariable("PATRONI_MODEL_ARTIFACTS") is { Length: > 0 } configured)
            {
                return configured;
            }
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "PatroniModel.sln")))
                    {
                        return Path.Combine(dir.FullName, "artifacts");
                    }
                }
            }
            return Path.Combine(Directory.GetCurrentDirectory(), "artifacts");
        }
    }

    /// <summary>
    /// Creates and returns a fresh <c>&lt;root&gt;/&lt;kind&gt;/&lt;utc&gt;</c> (<c>yyyyMMddTHHmmssZ</c>, with <c>-2</c>,
    /// <c>-3</c>... when that folder exists already). <paramref name="kind"/> may name sub-folders (<c>e2e/conformance/x</c>).
    /// </summary>
    public static string Create(string kind, DateTimeOffset utc, string? root = null)
    {
        root ??= Root;
        var stamp = utc.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var directory = Path.Combine(root, kind, stamp);
        for (var n = 2; Directory.Exists(directory); n++)
        {
            directory = Path.Combine(root, kind, $"{stamp}-{n}");
        }
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary><paramref name="name"/> as one folder name: letters, digits, <c>-</c>, <c>_</c> and <c>.</c> kept, the rest <c>_</c>.</summary>
    public static string SafeName(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
