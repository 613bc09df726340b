namespace PatroniModel.RealCluster.Evidence;

/// <summary>Where a failing E2E run leaves its evidence: <c>artifacts/e2e/&lt;test&gt;/&lt;utc&gt;/</c> under the repository root.</summary>
public static class ArtifactDirectory
{
    /// <summary>The repository's <c>artifacts</c> folder (found by walking up to PatroniModel.sln), or <c>PATRONI_MODEL_ARTIFACTS</c>.</summary>
    public static string Root
    {
        get
        {
            if (Environment.GetEnvironmentVariable("PATRONI_MODEL_ARTIFACTS") is { Length: > 0 } configured)
            {
                return configured;
            }
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "PatroniModel.sln")))
                {
                    return Path.Combine(dir.FullName, "artifacts");
                }
            }
            return Path.Combine(Directory.GetCurrentDirectory(), "artifacts");
        }
    }

    /// <summary>Creates and returns <c>artifacts/e2e/&lt;test&gt;/&lt;utc&gt;/</c>.</summary>
    public static string ForTest(string testName)
    {
        var safe = string.Concat(testName.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        var path = Path.Combine(Root, "e2e", safe, DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(path);
        return path;
    }
}
