using System.Text;

namespace Nabla.Data;

/// <summary>
/// The lines of a text stream (a CSV file, or standard input), decoded one way for every source: UTF-8 unless a
/// byte-order mark says UTF-16 or UTF-32 (the mark is not part of the first line), invalid bytes replaced rather than
/// fatal, and "\r\n", "\n" or a lone "\r" ending a line, as <see cref="TextReader.ReadLine"/> reads them. Unlike
/// ReadLine, a line is bounded: one longer than the limit is refused as soon as the limit is passed, before the rest
/// of it is read, so memory stays proportional to the longest accepted line whatever the input holds.
/// </summary>
internal static class TextLines
{
    /// <summary>
    /// The longest line accepted, in characters: 16 Mi. A table row of 100,000 columns of 15-character numbers fits
    /// ten times over; a file that is not line-oriented (or one huge line) is refused after reading this much.
    /// </summary>
    public const int MaxLineChars = 16 << 20;

    /// <summary>The lines of <paramref name="stream"/> (left open), each with its 1-based number; <paramref name="name"/> names the source in errors.</summary>
    /// <exception cref="DataFormatException">A line is longer than <paramref name="maxChars"/>.</exception>
    public static IEnumerable<(int Number, string Text)> Read(Stream stream, string name, int maxChars = MaxLineChars)
    {
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true,
            bufferSize: 1 << 16, leaveOpen: true);
        var buffer = new char[1 << 16];
        var line = new StringBuilder();
        int number = 1, read;
        bool afterCr = false;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                char c = buffer[i];
                if (c is not ('\n' or '\r'))
                {
                    afterCr = false;
                    continue;
                }
                if (c == '\n' && afterCr)
                {
                    // the "\n" of a "\r\n" whose "\r" ended the line already
                    afterCr = false;
                    start = i + 1;
                    continue;
                }
                line.Append(buffer, start, i - start);
                Check(line.Length, number, name, maxChars);
                yield return (number++, line.ToString());
                line.Clear();
                afterCr = c == '\r';
                start = i + 1;
            }
            line.Append(buffer, start, read - start);
            Check(line.Length, number, name, maxChars);
        }
        if (line.Length > 0) yield return (number, line.ToString());
    }

    private static void Check(int length, int number, string name, int maxChars)
    {
        if (length > maxChars)
            throw new DataFormatException($"{name}: line {number} is longer than {maxChars:N0} characters, the most one row may have; is it a text table with one row per line?");
    }
}
