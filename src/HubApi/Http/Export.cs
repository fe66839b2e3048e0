using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using HubApi.Data;
using HubApi.Query;
using HubApi.Resources;

namespace HubApi.Http;

/// <summary>
/// Streams a whole filtered, sorted collection as CSV or NDJSON, a batch of rows at a time, so memory stays
/// flat however large the table.
/// </summary>
public sealed class Export(ListQuery query, IStore store, string mediaType) : IResult
{
    public const string Csv = "text/csv";
    public const string Ndjson = "application/x-ndjson";

    /// <summary>
    /// Rows are encoded straight into the response pipe and sent once this much is waiting, not a socket write per
    /// row; an export holds at most this plus Kestrel's 64 KiB of unsent output, however slow the client.
    /// </summary>
    private const int FlushThreshold = 32 * 1024;

    /// <summary>The export format the Accept header asks for, if any.</summary>
    public static string? Negotiate(HttpRequest request)
    {
        foreach (var accept in request.GetTypedHeaders().Accept)
        {
            if (accept.MediaType.Equals(Csv, StringComparison.OrdinalIgnoreCase)) return Csv;
            if (accept.MediaType.Equals(Ndjson, StringComparison.OrdinalIgnoreCase)) return Ndjson;
        }
        return null;
    }

    public async Task ExecuteAsync(HttpContext http)
    {
        // A full export of a large table may rightly take longer than the request time-out.
        http.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>()?.DisableTimeout();
        http.Response.ContentType = mediaType + "; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"inline; filename=\"{query.Resource.Name}.{(mediaType == Csv ? "csv" : "ndjson")}\"";
        var body = http.Response.BodyWriter;
        var aborted = http.RequestAborted;
        var resource = query.Resource;
        var columns = CsvColumns(resource, query.Fields);
        // One JSON writer for the whole export; it writes into the pipe and is reset after each record.
        using var json = mediaType == Ndjson ? new Utf8JsonWriter(body, JsonBody.WriterOptions) : null;

        long unflushed = 0;
        if (json is null) unflushed += Encoding.UTF8.GetBytes(string.Join(",", columns) + "\r\n", body); // field names need no quotes
        foreach (var row in store.Stream(query))
        {
            if (json is null) unflushed += WriteCsvLine(body, resource, row, columns);
            else
            {
                RecordJson.WriteRecord(json, resource, row, query.Fields);
                json.Flush(); // hands the record's bytes to the pipe; nothing is sent yet
                unflushed += json.BytesCommitted + Write(body, "\n"u8);
                json.Reset(); // the next record is a new top-level value
            }
            if (unflushed < FlushThreshold) continue;
            unflushed = 0;
            // Waits while the client is slower than the database: back-pressure keeps memory flat.
            var sent = await body.FlushAsync(aborted);
            if (sent.IsCanceled || sent.IsCompleted || aborted.IsCancellationRequested) return; // the client went away
        }
        // An export that wrote nothing (NDJSON, no matches) is left unstarted, so Kestrel answers it with Content-Length: 0.
        if (unflushed > 0) await body.FlushAsync(aborted);
    }

    /// <summary>CSV has no nesting: citations are left out, to-many ids are joined with ';'.</summary>
    private static List<string> CsvColumns(Resource resource, IReadOnlySet<string>? fields) =>
        [.. resource.FieldNames.Where(n => n != "citations" && (fields is null || n == "id" || fields.Contains(n)))];

    private static long WriteCsvLine(PipeWriter body, Resource resource, Row row, List<string> columns)
    {
        long written = 0;
        for (var i = 0; i < columns.Count; i++)
        {
            if (i > 0) written += Write(body, ","u8);
            var index = resource.ColumnIndex(columns[i]);
            var text = index >= 0
                ? resource.Columns[index].Type == FieldType.Boolean && row.Values[index] is long b ? (b != 0 ? "true" : "false") : Row.Format(row.Values[index])
                : string.Join(";", row.Many[columns[i]]);
            written += WriteCell(body, text);
        }
        return written + Write(body, "\r\n"u8);
    }

    /// <summary>Quotes a cell only when it holds a comma, quote or line break, doubling its quotes (RFC 4180).</summary>
    private static long WriteCell(PipeWriter body, ReadOnlySpan<char> text)
    {
        if (text.IndexOfAny(",\"\r\n") < 0) return Encoding.UTF8.GetBytes(text, body);
        long written = Write(body, "\""u8);
        for (var quote = text.IndexOf('"'); quote >= 0; quote = text.IndexOf('"'))
        {
            written += Encoding.UTF8.GetBytes(text[..quote], body) + Write(body, "\"\""u8);
            text = text[(quote + 1)..];
        }
        return written + Encoding.UTF8.GetBytes(text, body) + Write(body, "\""u8);
    }

    /// <summary>Writes bytes into the pipe and says how many, for the flush threshold.</summary>
    private static int Write(PipeWriter body, ReadOnlySpan<byte> bytes)
    {
        body.Write(bytes);
        return bytes.Length;
    }
}
