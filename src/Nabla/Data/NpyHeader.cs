using System.Globalization;

namespace Nabla.Data;

/// <summary>
/// The header of a <c>.npy</c> file, parsed as NumPy parses it (<c>numpy.lib.format</c>): a Python dict literal
/// (<c>ast.literal_eval</c>) whose keys are exactly <c>'descr'</c>, <c>'fortran_order'</c> and <c>'shape'</c>; descr a
/// string, fortran_order <c>True</c> or <c>False</c>, shape a tuple of non-negative integers. Anything else (another
/// key, a missing one, an expression, a list for shape) is refused: NumPy refuses it too. Only the literal forms that
/// can occur there are read (strings, booleans, tuples of integers), by a small recursive-descent parser written here
/// because no .NET package parses Python literals.
/// </summary>
/// <param name="Descr">The dtype string, e.g. <c>&lt;f4</c>.</param>
/// <param name="FortranOrder">Whether the data is in Fortran (column-major) order.</param>
/// <param name="Shape">The dimensions.</param>
internal sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape)
{
    /// <summary>Parses <paramref name="text"/>; <paramref name="version"/> 1 and 2 allow Python 2's <c>3L</c> integers, as NumPy does.</summary>
    /// <exception cref="FormatException">Not such a dict; the message says what is wrong.</exception>
    public static NpyHeader Parse(string text, int version)
    {
        var p = new Parser(text, allowLong: version < 3);
        var dict = p.Dict();
        p.End();
        string[] keys = ["descr", "fortran_order", "shape"];
        var unknown = dict.Keys.Except(keys).ToList();
        if (unknown.Count > 0) throw new FormatException($"the header has the key(s) {string.Join(", ", unknown.Select(k => $"'{k}'"))}; NumPy's has exactly 'descr', 'fortran_order' and 'shape'");
        var missing = keys.Except(dict.Keys).ToList();
        if (missing.Count > 0) throw new FormatException($"the header lacks {string.Join(", ", missing.Select(k => $"'{k}'"))}");
        if (dict["descr"] is not string descr) throw new FormatException("'descr' is not a string (structured dtypes are not supported)");
        if (dict["fortran_order"] is not bool fortran) throw new FormatException("'fortran_order' is not True or False");
        if (dict["shape"] is not long[] shape) throw new FormatException("'shape' is not a tuple of integers");
        return new NpyHeader(descr, fortran, shape);
    }

    /// <summary>Reads the literal grammar the header uses, nothing more.</summary>
    private sealed class Parser(string s, bool allowLong)
    {
        private int _at;

        private void Space()
        {
            while (_at < s.Length && s[_at] is ' ' or '\t' or '\n' or '\r') _at++;
        }

        private bool Take(char c)
        {
            Space();
            if (_at < s.Length && s[_at] == c) { _at++; return true; }
            return false;
        }

        private FormatException Error(string what) =>
            new($"the header is not a Python dict literal: {what} at character {_at + 1} ({Context()})");

        private string Context() => s.Length <= 80 ? s.Trim() : s[..80].Trim() + "…";

        private void Expect(char c)
        {
            if (!Take(c)) throw Error($"expected '{c}'");
        }

        public Dictionary<string, object> Dict()
        {
            Expect('{');
            var d = new Dictionary<string, object>(StringComparer.Ordinal);
            while (!Take('}'))
            {
                string key = Str();
                Expect(':');
                if (!d.TryAdd(key, Value())) throw Error($"the key '{key}' appears twice");
                if (Take('}')) break;
                Expect(',');
            }
            return d;
        }

        public void End()
        {
            Space();
            if (_at != s.Length) throw Error("text after the dict");
        }

        private object Value()
        {
            Space();
            if (_at >= s.Length) throw Error("the header ends early");
            char c = s[_at];
            if (c is '\'' or '"') return Str();
            if (c == '(') return Tuple();
            foreach (var (word, value) in new[] { ("True", true), ("False", false) })
                if (string.CompareOrdinal(s, _at, word, 0, word.Length) == 0 && !Identifier(_at + word.Length))
                {
                    _at += word.Length;
                    return value;
                }
            throw Error("a value that is not a string, True, False or a tuple");
        }

        private bool Identifier(int i) => i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_');

        private string Str()
        {
            Space();
            if (_at >= s.Length || s[_at] is not ('\'' or '"')) throw Error("expected a quoted string");
            char quote = s[_at++];
            int start = _at;
            while (_at < s.Length && s[_at] != quote)
            {
                if (s[_at] is '\\' or '\n') throw Error("an escape or a line break in a string");
                _at++;
            }
            if (_at >= s.Length) throw Error("an unterminated string");
            return s[start.._at++];
        }

        private long[] Tuple()
        {
            Expect('(');
            var items = new List<long>();
            while (!Take(')'))
            {
                items.Add(Integer());
                if (Take(',')) continue;
                Expect(')');
                if (items.Count == 1) throw Error("(n) is a number, not a tuple: a one-element shape is written (n,)");
                break;
            }
            return [.. items];
        }

        private long Integer()
        {
            Space();
            int start = _at;
            while (_at < s.Length && char.IsAsciiDigit(s[_at])) _at++;
            if (_at == start) throw Error("expected a non-negative integer");
            if (!long.TryParse(s.AsSpan(start, _at - start), NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                throw Error("an integer too large");
            if (allowLong && _at < s.Length && s[_at] == 'L') _at++;
            if (Identifier(_at)) throw Error("an integer followed by letters");
            return v;
        }
    }
}
