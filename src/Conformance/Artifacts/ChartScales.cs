using System.Globalization;
using PatroniModel.Scenarios.Wal;

namespace PatroniModel.Conformance.Artifacts;

/// <summary>
/// One side's time on the timeline page: milliseconds since the side's first observation mapped onto the chart's
/// width (the model's virtual clock and reality's wall clock each get their own scale).
/// </summary>
internal sealed record TimeScale(long StartMilliseconds, long EndMilliseconds, double Left, double Width)
{
    private static readonly double[] NiceSeconds = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

    public long SpanMilliseconds => Math.Max(1, EndMilliseconds - StartMilliseconds);

    public double X(long milliseconds) =>
        Left + Width * Math.Clamp((milliseconds - StartMilliseconds) / (double)SpanMilliseconds, 0, 1);

    /// <summary>Seconds since the first observation, as the page prints them: <c>12.3</c>.</summary>
    public string Seconds(long milliseconds) =>
        ((milliseconds - StartMilliseconds) / 1000.0).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>At most about ten ticks at round numbers of seconds, labelled <c>0 s</c>, <c>5 s</c>, ...</summary>
    public IEnumerable<(double X, string Label)> Ticks()
    {
        var span = SpanMilliseconds / 1000.0;
        var step = NiceSeconds.FirstOrDefault(s => span / s <= 10);
        if (step == 0)
        {
            step = 3600 * Math.Ceiling(span / 10 / 3600);
        }
        for (var k = 0; k * step <= span + 1e-9; k++)
        {
            var seconds = k * step;
            yield return (X(StartMilliseconds + (long)Math.Round(seconds * 1000)), seconds.ToString("0.#", CultureInfo.InvariantCulture) + " s");
        }
    }
}

/// <summary>WAL positions mapped onto the chart's height (higher LSN higher up), with ticks at round hexadecimal positions.</summary>
internal sealed record LsnScale(ulong Min, ulong Max, double Top, double Height)
{
    /// <summary>A scale that holds every position with a little room above and below.</summary>
    public static LsnScale Around(IEnumerable<Lsn> positions, double top, double height)
    {
        var min = ulong.MaxValue;
        var max = 0UL;
        foreach (var lsn in positions)
        {
            min = Math.Min(min, lsn.Value);
            max = Math.Max(max, lsn.Value);
        }
        var pad = Math.Max(128UL, (max - min) / 25);
        return new LsnScale(min > pad ? min - pad : 0, max + pad, top, height);
    }

    public double Y(Lsn lsn) => Top + Height * (1 - (lsn.Value - (double)Min) / (Max - (double)Min));

    /// <summary>Ticks every power of two bytes, so the labels (<c>0/3000000</c>) are round in PostgreSQL's notation.</summary>
    public IEnumerable<(double Y, string Label)> Ticks()
    {
        var step = 1UL;
        while ((Max - Min) / step > 6)
        {
            step <<= 1;
        }
        for (var v = (Min + step - 1) / step * step; v <= Max; v += step)
        {
            yield return (Y(new Lsn(v)), new Lsn(v).ToString());
        }
    }
}

/// <summary>Keeps a polyline small: at most a few points per pixel column, then the points that bend it (Ramer-Douglas-Peucker).</summary>
internal static class Polyline
{
    public static List<(double X, double Y)> Simplify(IReadOnlyList<(double X, double Y)> points, double tolerance = 0.6)
    {
        var columns = ByPixelColumn(points);
        if (columns.Count <= 2)
        {
            return columns;
        }
        var keep = new bool[columns.Count];
        keep[0] = keep[^1] = true;
        var pending = new Stack<(int From, int To)>();
        pending.Push((0, columns.Count - 1));
        while (pending.Count > 0)
        {
            var (from, to) = pending.Pop();
            var farthest = -1;
            var distance = tolerance;
            for (var i = from + 1; i < to; i++)
            {
                var d = Distance(columns[i], columns[from], columns[to]);
                if (d > distance)
                {
                    distance = d;
                    farthest = i;
                }
            }
            if (farthest >= 0)
            {
                keep[farthest] = true;
                pending.Push((from, farthest));
                pending.Push((farthest, to));
            }
        }
        return [.. columns.Where((_, i) => keep[i])];
    }

    /// <summary>Per whole-pixel column the first, lowest, highest and last point, in their order.</summary>
    private static List<(double X, double Y)> ByPixelColumn(IReadOnlyList<(double X, double Y)> points)
    {
        var result = new List<(double X, double Y)>();
        var i = 0;
        while (i < points.Count)
        {
            var column = Math.Floor(points[i].X);
            var j = i;
            int low = i, high = i;
            while (j + 1 < points.Count && Math.Floor(points[j + 1].X) == column)
            {
                j++;
                low = points[j].Y < points[low].Y ? j : low;
                high = points[j].Y > points[high].Y ? j : high;
            }
            foreach (var k in new SortedSet<int> { i, low, high, j })
            {
                result.Add(points[k]);
            }
            i = j + 1;
        }
        return result;
    }

    private static double Distance((double X, double Y) p, (double X, double Y) a, (double X, double Y) b)
    {
        var (dx, dy) = (b.X - a.X, b.Y - a.Y);
        var length = Math.Sqrt(dx * dx + dy * dy);
        return length < 1e-9
            ? Math.Sqrt((p.X - a.X) * (p.X - a.X) + (p.Y - a.Y) * (p.Y - a.Y))
            : Math.Abs(dy * p.X - dx * p.Y + b.X * a.Y - b.Y * a.X) / length;
    }
}
