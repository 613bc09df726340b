using System.Net;
using System.Text;

namespace PatroniModel.Tests.ReconcilerTests.Cluster;

/// <summary>
/// A Patroni REST API that answers fixed bodies on a free 127.0.0.1 port (<c>GET /cluster</c>, <c>GET /config</c>): a
/// cluster view with members the single local member can't give (replicas, <c>nofailover</c>, unreachable members), whose
/// PostgreSQL addresses point at the real local server or at closed ports. A path with no answer set gets HTTP 404.
/// </summary>
public sealed class StubPatroniRest : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, (int Status, string Body)> _answers = new(StringComparer.Ordinal);
    private readonly Task _serving;

    public StubPatroniRest()
    {
        var port = LocalPatroniCluster.ClosedPort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    /// <summary>Answers <c>GET /<paramref name="path"/></c> with <paramref name="status"/> and <paramref name="body"/>.</summary>
    public StubPatroniRest Answer(string path, string body, int status = 200)
    {
        lock (_answers)
        {
            _answers[path] = (status, body);
        }
        return this;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            (int Status, string Body) answer;
            lock (_answers)
            {
                answer = _answers.TryGetValue(context.Request.Url!.AbsolutePath.TrimStart('/'), out var found) ? found : (404, "{}");
            }
            var bytes = Encoding.UTF8.GetBytes(answer.Body);
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
