using System.Globalization;

namespace PatroniModel.Tests.ModelTests.Support;

/// <summary>CPU time of the calling thread (Linux /proc), so a benchmark on a busy machine can say what it cost, not how long it waited.</summary>
public static class ThreadCpu
{
    public static double Seconds()
    {
        const string stat = "/proc/thread-self/stat";
        if (!File.Exists(stat))
        {
            return double.NaN;
        }
        var text = File.ReadAllText(stat);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
