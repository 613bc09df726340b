using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.OperatorTests.Packaging;

/// <summary>
/// <c>dotnet pack</c> makes the library package and the dotnet tool; the tool installs into a temporary <c>--tool-path</c>
/// from the local package folder and runs <c>--version</c> and <c>audit</c> against the local Patroni.
/// </summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class PackagingTests(LocalPatroniCluster cluster)
{
    [Fact]
    public async Task The_packages_build_and_the_tool_installs_and_audits_the_local_patroni()
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("patroni-model-pack-").FullName;
        try
        {
            var packages = Path.Combine(work, "packages");
            // --no-build: the test run built both (Release) already; packing must not rebuild the solution.
            await DotnetAsync(root, "pack", "src/Reconciler/Reconciler.csproj", "-c", "Release", "--no-build", "-o", packages, "-nologo");
            await DotnetAsync(root, "pack", "src/Cli/Cli.csproj", "-c", "Release", "--no-build", "-o", packages, "-nologo");

            var library = Path.Combine(packages, "PatroniModel.Reconciler.0.1.0.nupkg");
            Assert.True(File.Exists(Path.Combine(packages, "PatroniModel.Reconciler.0.1.0.snupkg")), string.Join(", ", Directory.GetFiles(packages)));
            using (var zip = ZipFile.OpenRead(library))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("README.md", entries);
                Assert.Contains("lib/net10.0/PatroniModel.Reconciler.dll", entries);
                Assert.Contains("lib/net10.0/PatroniModel.Reconciler.xml", entries);
                var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
                Assert.Contains("<id>PatroniModel.Reconciler</id>", nuspec, StringComparison.Ordinal);
                Assert.Contains("<license type=\"expression\">", nuspec, StringComparison.Ordinal);
                Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
                Assert.Contains("<description>", nuspec, StringComparison.Ordinal);
            }

            var tools = Path.Combine(work, "tools");
            await DotnetAsync(work, "tool", "install", "PatroniModel.Cli", "--version", "0.1.0", "--tool-path", tools, "--add-source", packages, "--ignore-failed-sources");
            var tool = Path.Combine(tools, "patroni-model");

            var version = await RunAsync(work, tool, "--version");
            Assert.Equal(0, version.Code);
            Assert.Matches(@"^patroni-model 0\.1\.0", version.Output);

            var audit = await RunAsync(work, tool, "audit", "--patroni", cluster.RestUrl.ToString(), "--json");
            Assert.True(audit.Code is 0 or 1, $"audit exited {audit.Code}: {audit.Output}");
            foreach (var line in audit.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var record = JsonDocument.Parse(line);
                Assert.Equal("pg1", record.RootElement.GetProperty("member").GetString());
            }

            var help = await RunAsync(work, tool, "ensure", "--help");
            Assert.Equal(0, help.Code);
            Assert.Contains("--plugin <PLUGIN>", help.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PatroniModel.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException($"no PatroniModel.sln above {AppContext.BaseDirectory}");
    }

    private static async Task DotnetAsync(string directory, params string[] args)
    {
        var result = await RunAsync(directory, "dotnet", args);
        Assert.True(result.Code == 0, $"dotnet {string.Join(' ', args)} exited {result.Code}:\n{result.Output}");
    }

    private static async Task<(int Code, string Output)> RunAsync(string directory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout) + (await stderr));
    }
}
