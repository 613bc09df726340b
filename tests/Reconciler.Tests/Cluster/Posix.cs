using System.Runtime.InteropServices;

namespace PatroniModel.Tests.ReconcilerTests.Cluster;

/// <summary>The few POSIX calls the fixture needs: signals to the processes it started, and who runs the tests.</summary>
internal static class Posix
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();

    public static bool IsRoot => geteuid() == 0;

    /// <summary>Sends <paramref name="signal"/> to one process the fixture started (never to a group or by name).</summary>
    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0 && Marshal.GetLastPInvokeError() != 3 /* ESRCH: already gone */)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
