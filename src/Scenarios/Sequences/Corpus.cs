namespace PatroniModel.Scenarios.Sequences;

/// <summary>
/// The conformance corpus, <c>tests/E2E/Corpus</c> in the repository (found by walking up to <c>PatroniModel.sln</c> from
/// the program's own directory): replayed beside reality in E2E, on the model in the property suite, checked as files in
/// Scenarios.Tests.
/// </summary>
public static class Corpus
{
    public static string Directory
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "PatroniModel.sln")))
                {
                    return Path.Combine(directory.FullName, "tests", "E2E", "Corpus");
                }
            }
            throw new InvalidOperationException($"PatroniModel.sln not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The corpus files' names (<c>NN-what.json</c>), in ordinal order.</summary>
    public static IEnumerable<string> FileNames =>
        System.IO.Directory.GetFiles(Directory, "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);
}
