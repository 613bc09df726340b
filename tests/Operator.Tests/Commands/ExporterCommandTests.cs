using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PatroniModel.Cli.Commands;
using PatroniModel.Reconciler.Positions;
using PatroniModel.Reconciler.Reports;
using PatroniModel.Tests.OperatorTests.Cluster;
using PatroniModel.Tests.ReconcilerTests.Cluster;
using Xunit;

namespace PatroniModel.Tests.OperatorTests.Commands;

/// <summary><c>exporter</c> on the real local Patroni, scraped over HTTP, its output checked by Prometheus's own <c>promtool check metrics</c>.</summary>
[Collection(PatroniClusterCollection.Name)]
public sealed class ExporterCommandTests(LocalPatroniCluster cluster)
{
    [Fact]
    public async Task The_exporter_serves_per_slot_gauges_that_promtool_accepts_and_counts_a_gap_once()
    {
        await cluster.WarmedUpAsync();
        var slot = cluster.UniqueSlot("exp");
        var positions = Directory.CreateTempSubdirectory("patroni-model-exporter-").FullName;
        await cluster.ExecuteAsync("SELECT pg_create_logical_replication_slot($1::name, 'test_decoding')", slot);
        var at = (await cluster.ConfirmedFlushAsync(slot))!.Value;
        // The consumer's stored position is below the slot's: a gap the exporter's check finds (found ahead).
        await new FilePositionStore(positions).SaveAsync(slot, new ConfirmedPosition(new NpgsqlTypes.NpgsqlLogSequenceNumber(0x1000000), 1));
        var port = FreePort();
        using var stop = new CancellationTokenSource();
        var run = CommandRun.RunAsync(ExporterCommand.RunAsync, null, stop.Token,
            "--patroni", cluster.RestUrl.ToString(), "--listen", $"127.0.0.1:{port}", "--position-dir", positions);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var url = new Uri($"http://127.0.0.1:{port}/metrics");
            var first = await ScrapeAsync(http, url, run);
            var second = await ScrapeAsync(http, url, run);
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "patroni-model-exporter-sample.txt"), second);

            Assert.Contains($"patroni_slot_hazard{{member=\"pg1\",slot=\"{slot}\",hazard=\"unprotected\"}} 1", second, StringComparison.Ordinal);
            Assert.Contains($"patroni_slot_hazard{{member=\"pg1\",slot=\"{slot}\",hazard=\"no_ready_copy\"}} 0", second, StringComparison.Ordinal);
            Assert.Contains($"patroni_slot_protected{{member=\"pg1\",slot=\"{slot}\",mechanism=\"none\"}} 0", second, StringComparison.Ordinal);
            Assert.Matches($"patroni_slot_retained_wal_bytes{{member=\"pg1\",slot=\"{slot}\"}} \\d+", second);
            Assert.Matches($"patroni_slot_confirmed_lag_bytes{{member=\"pg1\",slot=\"{slot}\"}} \\d+", second);
            Assert.Contains("patroni_member_up{member=\"pg1\",role=\"leader\"} 1", second, StringComparison.Ordinal);
            Assert.Contains("patroni_audit_up 1", second, StringComparison.Ordinal);
            // The same gap seen on two scrapes is counted once.
            Assert.Contains($"patroni_reconciler_gaps_total{{slot=\"{slot}\"}} 1", first, StringComparison.Ordinal);
            Assert.Contains($"patroni_reconciler_gaps_total{{slot=\"{slot}\"}} 1", second, StringComparison.Ordinal);
            Assert.Contains($"patroni_reconciler_gap_bytes_total{{slot=\"{slot}\"}} {(ulong)at - 0x1000000}", second, StringComparison.Ordinal);

            var (code, lint) = await PromtoolCheckAsync(second);
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "patroni-model-exporter-sample.txt"), second);
            Assert.True(code == 0, $"promtool check metrics exited {code}: {lint}\n{second}");

            // A dropped slot's series go away.
            await cluster.DropSlotWhenInactiveAsync(slot);
            var third = await ScrapeAsync(http, url, run);
            Assert.DoesNotContain($"patroni_slot_hazard{{member=\"pg1\",slot=\"{slot}\"", third, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            var result = await run;
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("exporter: stopped after", result.Output, StringComparison.Ordinal);
            Directory.Delete(positions, recursive: true);
            await cluster.DropSlotWhenInactiveAsync(slot);
        }
    }

    [Fact]
    public async Task The_exporter_refuses_a_bad_listen_address_with_one_line()
    {
        var result = await CommandRun.RunAsync(ExporterCommand.RunAsync, null, default, "--patroni", cluster.RestUrl.ToString(), "--listen", "127.0.0.1:99999");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--listen must be HOST:PORT with a port from 1 to 65535, got '127.0.0.1:99999'", result.Error, StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeAsync(HttpClient http, Uri url, Task<CommandResult> run)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (run.IsCompleted)
            {
                throw new Xunit.Sdk.XunitException($"the exporter stopped: {await run}");
            }
            try
            {
                return await http.GetStringAsync(url);
            }
            catch (HttpRequestException) when (watch.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<(int Code, string Output)> PromtoolCheckAsync(string metrics)
    {
        var start = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start promtool (apt-get install -y prometheus)");
        await process.StandardInput.WriteAsync(metrics);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
