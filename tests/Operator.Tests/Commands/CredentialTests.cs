using PatroniModel.Cli.Commands;
using PatroniModel.Tests.OperatorTests.Cluster;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.OperatorTests.Commands;

/// <summary>The password comes from the environment or a file, never the command line, and shows nowhere.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class CredentialTests(LocalPatroniCluster cluster)
{
    private const string Secret = "Pw-7f3e9c1d-never-print";

    [Fact]
    public async Task The_password_never_appears_in_output_json_errors_or_reports()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("cred");
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, Secret + "\n");
        var environment = new Dictionary<string, string> { [AuditConnection.PasswordVariable] = Secret };
        var closed = $"http://127.0.0.1:{LocalPatroniCluster.ClosedPort()}";
        var rest = cluster.RestUrl.ToString();
        var results = new List<CommandResult>();
        try
        {
            results.Add(await CommandRun.RunAsync(AuditCommand.RunAsync, environment, default, "--patroni", rest));
            results.Add(await CommandRun.RunAsync(AuditCommand.RunAsync, environment, default, "--patroni", rest, "--json"));
            results.Add(await CommandRun.RunAsync(AuditCommand.RunAsync, environment, default, "--patroni", closed));
            results.Add(await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, "--patroni", rest, "--password-file", file, "--json"));
            // A user that does not exist: PostgreSQL's refusal is reported, the password is not.
            results.Add(await CommandRun.RunAsync(AuditCommand.RunAsync, environment, default, "--patroni", rest, "--user", "nobody_here", "--json"));
            results.Add(await CommandRun.RunAsync(EnsureCommand.RunAsync, environment, default, slot, "--patroni", rest, "--plugin", "test_decoding", "--last-confirmed", "0/1", "--json"));
            results.Add(await CommandRun.RunAsync(EnsureCommand.RunAsync, environment, default, slot, "--patroni", rest, "--plugin", "test_decoding", "--user", "nobody_here", "--last-confirmed", "0/1"));
            results.Add(await CommandRun.RunAsync(EnsureCommand.RunAsync, null, default, slot, "--patroni", rest, "--plugin", "test_decoding", "--password-file", file, "--debezium-offset", "{}"));
            results.Add(await CommandRun.RunAsync(AuditCommand.RunAsync, null, default, "--patroni", rest, "--password", Secret));

            Assert.Contains(results, r => r.Error.Contains("nobody_here", StringComparison.Ordinal) || r.Output.Contains("nobody_here", StringComparison.Ordinal));
            Assert.Contains("unknown option '--password'", results[^1].Error, StringComparison.Ordinal);
            foreach (var result in results)
            {
                Assert.DoesNotContain(Secret, result.Output, StringComparison.Ordinal);
                Assert.DoesNotContain(Secret, result.Error, StringComparison.Ordinal);
            }
            var connection = new AuditConnection(environment.GetValueOrDefault);
            var command = new System.CommandLine.RootCommand();
            connection.AddTo(command);
            var options = connection.Parse(command.Parse(["--patroni", rest]));
            Assert.Equal(Secret, options.Password);
            Assert.DoesNotContain(Secret, options.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }
}
