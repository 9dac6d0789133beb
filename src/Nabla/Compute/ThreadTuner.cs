using System.Diagnostics;

namespace Nabla.Compute;

/// <summary>How a <see cref="ThreadTuner"/> measures and decides.</summary>
/// <param name="WindowSeconds">A measuring window lasts at least this long (and at least <paramref name="WindowSteps"/> steps).</param>
/// <param name="WindowSteps">The fewest steps in a window.</param>
/// <param name="ProbeRounds">Windows per candidate when choosing: each candidate in turn, this many times; the fastest median wins.</param>
/// <param name="WarmupRounds">
/// Rounds run first and not counted: a thread count's first steps compile and warm code the other count did not use,
/// which would make it look slower than it is.
/// </param>
/// <param name="FirstExploitSeconds">
/// Time on the chosen count before the first re-check (at least <paramref name="ExploitFactor"/> times as long as the
/// probe that chose it took); doubles while the choice holds.
/// </param>
/// <param name="MaxExploitSeconds">The longest time between re-checks.</param>
/// <param name="Cycle">Switch to the next count after every window and never settle (for tests: the most switching there can be).</param>
/// <param name="ExploitFactor">
/// The chosen count runs at least this many times as long as probing took, so that probing (half of it with slower
/// counts) costs a few percent at most however long a step is.
/// </param>
public sealed record ThreadTunerPolicy(double WindowSeconds = 0.02, int WindowSteps = 2, int ProbeRounds = 3,
    double FirstExploitSeconds = 1.0, double MaxExploitSeconds = 8.0, bool Cycle = false, double ExploitFactor = 20, int WarmupRounds = 1);

/// <summary>A change of the thread count in use: at which step of the run (counted from 0), to how many.</summary>
/// <param name="Step">Steps done before the change.</param>
/// <param name="Threads">The count from then on.</param>
public readonly record struct ThreadChange(long Step, int Threads);

/// <summary>
/// <c>--threads auto</c>: the run times its own steps with each thread count it may use and keeps the fastest,
/// re-checking now and then (a competing process can start or stop; a VM can change speed). Every kernel gives the
/// same bits for any thread count, so switching changes only the speed, never a result.
/// </summary>
/// <remarks>
/// The decision: windows of steps (≥ <see cref="ThreadTunerPolicy.WindowSeconds"/>), one candidate at a time, in
/// turn, <see cref="ThreadTunerPolicy.ProbeRounds"/> rounds; the candidate with the lowest median time per step wins.
/// Alternating windows, rather than one long try each, keeps a change of the machine's speed from favouring whichever
/// ran first. Then the winner runs alone for a while (doubling up to <see cref="ThreadTunerPolicy.MaxExploitSeconds"/>
/// while it keeps winning) before one more probe of the same kind. On a machine where the choice is obvious the cost
/// is the probing windows run with the slower count: about a twentieth of the first second, then less.
/// </remarks>
public sealed class ThreadTuner
{
    private readonly WorkerPool _pool;
    private readonly int[] _candidates;
    private readonly double[][] _samples; // per candidate, per round: seconds per step
    private readonly long _windowTicks, _firstExploitTicks, _maxExploitTicks;
    private readonly List<ThreadChange> _changes = [];
    private long _windowStart = -1, _exploitUntil, _exploitTicks, _steps, _probeStart, _lastStep, _banked;
    private int _windowSteps, _candidate, _round;
    private bool _exploiting, _decided;

    /// <summary>Tunes <paramref name="pool"/>'s <see cref="WorkerPool.ActiveThreads"/> between 1 and its thread count.</summary>
    public ThreadTuner(WorkerPool pool, ThreadTunerPolicy? policy = null)
    {
        _pool = pool;
        Policy = policy ?? new ThreadTunerPolicy();
        _candidates = Candidates(pool.Threads);
        _samples = [.. _candidates.Select(_ => new double[Math.Max(1, Policy.ProbeRounds)])];
        _windowTicks = (long)(Policy.WindowSeconds * Stopwatch.Frequency);
        _firstExploitTicks = _exploitTicks = (long)(Policy.FirstExploitSeconds * Stopwatch.Frequency);
        _maxExploitTicks = (long)(Policy.MaxExploitSeconds * Stopwatch.Frequency);
        _pool.ActiveThreads = _candidates[0];
        _changes.Add(new ThreadChange(0, _candidates[0]));
        _probeStart = Stopwatch.GetTimestamp();
    }

    /// <summary>The counts it tries, most first: every count up to 4, then powers of two, and the pool's own count.</summary>
    private static int[] Candidates(int threads)
    {
        var c = new SortedSet<int> { threads };
        for (int t = 1; t < threads; t = t < 4 ? t + 1 : t * 2) c.Add(t);
        return [.. c.Reverse()];
    }

    /// <summary>The policy.</summary>
    public ThreadTunerPolicy Policy { get; }

    /// <summary>The thread count in use now (while probing, the one being timed).</summary>
    public int Threads => _pool.ActiveThreads;

    /// <summary>The count chosen last (the one the run uses between probes).</summary>
    public int Chosen => _changes[^1].Threads;

    /// <summary>The choices, in order: the start, then every probe that chose another count.</summary>
    public IReadOnlyList<ThreadChange> Changes => _changes;

    /// <summary>How many times the count in use changed, probing included.</summary>
    public long Switches { get; private set; }

    /// <summary>
    /// Something that is not a training step happened since the last step (an epoch ended, a test pass ran): the
    /// window in progress starts again rather than being charged with it.
    /// </summary>
    public void Pause()
    {
        if (_windowStart >= 0) _banked += _lastStep - _windowStart; // the window keeps the steps it timed, not the gap
        _windowStart = -1;
    }

    /// <summary>One training step finished. Allocates nothing (except when a probe changes the choice).</summary>
    public void StepDone()
    {
        long now = Stopwatch.GetTimestamp();
        _steps++;
        if (_exploiting)
        {
            if (now >= _exploitUntil) Probe(0, now);
            return;
        }
        _lastStep = now;
        if (_windowStart < 0) { _windowStart = now; return; } // the step after a pause includes the pause: not timed
        long timed = _banked + (now - _windowStart);
        if (++_windowSteps < Policy.WindowSteps || timed < _windowTicks) return;
        if (_round >= Policy.WarmupRounds) _samples[Slot(_candidate)][_round - Policy.WarmupRounds] = (double)timed / Stopwatch.Frequency / _windowSteps;
        int next = _candidate + 1;
        if (Policy.Cycle) Probe(next % _candidates.Length, now);
        else if (next < _candidates.Length) Probe(next, now);
        else if (++_round < _samples[0].Length + Policy.WarmupRounds && !Decisive()) Probe(0, now);
        else Decide(now, _round - Policy.WarmupRounds);
    }

    /// <summary>
    /// The candidate timed at position <paramref name="position"/> of the current round: the order reverses every other
    /// round (A B, B A, A B), so that a machine speeding up or slowing down during the probe favours no candidate.
    /// </summary>
    private int Slot(int position) => _round % 2 == 0 ? position : _candidates.Length - 1 - position;

    /// <summary>Times the candidate at position <paramref name="position"/> of the round next.</summary>
    private void Probe(int position, long now)
    {
        // A re-check needs no warm-up round: every candidate has run before.
        if (_exploiting) (_exploiting, _round, _probeStart) = (false, Policy.WarmupRounds, now);
        _candidate = position;
        Use(_candidates[Slot(position)]);
        (_windowStart, _windowSteps, _banked) = (now, 0, 0);
    }

    /// <summary>
    /// Whether a re-check's rounds so far already settle it: one candidate's every window was at least a fifth faster
    /// than every window of each other (a busy core makes two threads that much slower; probing on costs time). Not
    /// on the first probe: early in the first epoch the data is touched for the first time, and a count that is
    /// faster then (two threads gather while they compute) can be the slower one for the rest of the run.
    /// </summary>
    private bool Decisive()
    {
        int rounds = _round - Policy.WarmupRounds;
        if (rounds < 1 || !_decided) return false;
        for (int c = 0; c < _candidates.Length; c++)
        {
            double slowest = Extreme(c, rounds, max: true);
            bool wins = true;
            for (int o = 0; o < _candidates.Length && wins; o++)
                if (o != c && 1.2 * slowest > Extreme(o, rounds, max: false)) wins = false;
            if (wins) return true;
        }
        return false;
    }

    private double Extreme(int candidate, int rounds, bool max)
    {
        double e = _samples[candidate][0];
        for (int r = 1; r < rounds; r++) e = max ? Math.Max(e, _samples[candidate][r]) : Math.Min(e, _samples[candidate][r]);
        return e;
    }

    /// <summary>Keeps the fastest median of the <paramref name="rounds"/> measured; re-checks sooner when the choice changed, later when it held.</summary>
    private void Decide(long now, int rounds)
    {
        int best = 0;
        double bestTime = double.MaxValue;
        for (int c = 0; c < _candidates.Length; c++)
        {
            var s = _samples[c].AsSpan(0, rounds);
            s.Sort();
            if (s[s.Length / 2] < bestTime) (best, bestTime) = (c, s[s.Length / 2]);
        }
        int threads = _candidates[best];
        _exploitTicks = _decided && threads == Chosen ? Math.Min(2 * _exploitTicks, _maxExploitTicks) : _firstExploitTicks;
        _exploitTicks = Math.Max(_exploitTicks, (long)(Policy.ExploitFactor * (now - _probeStart)));
        _decided = true;
        if (threads != Chosen) _changes.Add(new ThreadChange(_steps, threads));
        Use(threads);
        (_exploiting, _exploitUntil) = (true, now + _exploitTicks);
    }

    private void Use(int threads)
    {
        if (_pool.ActiveThreads == threads) return;
        _pool.ActiveThreads = threads;
        Switches++;
    }
}
