using System.Text;

namespace HubApi.Http;

/// <summary>Turns user text into a literal FTS5 query: every word quoted, prefix-matched, all required.</summary>
public static class FullText
{
    public static string Query(string text)
    {
        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var c in text.Append(' '))
        {
            if (char.IsLetterOrDigit(c)) word.Append(c);
            else if (word.Length > 0)
            {
                terms.Add(word.ToString());
                word.Clear();
            }
        }
        // A search with no words matches nothing rather than failing: '""' is a valid, empty FTS5 phrase.
        return terms.Count == 0 ? "\"\"" : string.Join(" ", terms.Take(16).Select(t => $"\"{t}\"*"));
    }
}
