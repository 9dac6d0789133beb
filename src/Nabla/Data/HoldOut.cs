using System.Globalization;
using Nabla.Tensors;

namespace Nabla.Data;

/// <summary>
/// A held-out test split of one table (scikit-learn's <c>train_test_split</c>): a seeded random fraction of the rows,
/// stratified by class for classification (each class gives round(n_c · fraction) rows, at least one when it has two
/// or more), so that a single file is enough to train and to test. The split is a function of the row count, the
/// labels, the fraction and the seed: recording those (and <see cref="Hash"/>) lets <c>eval</c> redraw exactly it.
/// </summary>
/// <param name="Train">Row indices to train on, ascending.</param>
/// <param name="Test">Row indices held out, ascending.</param>
public sealed record HoldOut(int[] Train, int[] Test)
{
    /// <summary>Splits <paramref name="rows"/> rows; <paramref name="labels"/> (empty for regression) stratifies.</summary>
    /// <exception cref="DataFormatException">The fraction leaves no row to train on, or none to test on.</exception>
    public static HoldOut Split(int rows, ReadOnlySpan<int> labels, float fraction, Rng rng)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"A test fraction is in (0, 1); got {fraction}.");
        if (!labels.IsEmpty && labels.Length != rows) throw new ArgumentException($"{labels.Length} labels for {rows} rows.", nameof(labels));
        var test = new List<int>();
        if (labels.IsEmpty)
        {
            var order = Enumerable.Range(0, rows).ToArray();
            rng.Shuffle(order);
            test.AddRange(order[..(int)Math.Round(rows * (double)fraction)]);
        }
        else
        {
            var byClass = new SortedDictionary<int, List<int>>();
            for (int i = 0; i < rows; i++)
            {
                if (!byClass.TryGetValue(labels[i], out var list)) byClass[labels[i]] = list = [];
                list.Add(i);
            }
            foreach (var (_, members) in byClass)
            {
                var order = members.ToArray();
                rng.Shuffle(order);
                int take = (int)Math.Round(order.Length * (double)fraction);
                if (take == 0 && order.Length >= 2) take = 1;
                if (take == order.Length) take = order.Length - 1; // every class keeps a row to learn from
                test.AddRange(order[..take]);
            }
        }
        if (test.Count == 0) throw new DataFormatException($"A test split of {fraction.ToString(CultureInfo.InvariantCulture)} of {rows} rows holds out none; give more rows or a larger fraction.");
        if (test.Count >= rows) throw new DataFormatException($"A test split of {fraction.ToString(CultureInfo.InvariantCulture)} of {rows} rows leaves none to train on.");
        var held = test.ToHashSet();
        return new HoldOut([.. Enumerable.Range(0, rows).Where(i => !held.Contains(i))], [.. test.Order()]);
    }

    /// <summary>A fingerprint of the held-out rows (FNV-1a over their indices): equal splits, equal hashes.</summary>
    public string Hash
    {
        get
        {
            ulong h = 0xCBF29CE484222325UL;
            foreach (int i in Test) h = (h ^ (uint)i) * 0x100000001B3UL;
            return h.ToString("x16", CultureInfo.InvariantCulture);
        }
    }
}
