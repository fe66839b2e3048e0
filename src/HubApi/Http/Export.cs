using System.Text;
using System.Text.Json;
using HubApi.Data;

namespace HubApi.Http;

/// <summary>
/// Streams a whole filtered, sorted collection as CSV or NDJSON, a batch of rows at a time, so memory stays
/// flat however large the table.
/// </summary>
public sealed class Export(ListQuery query, ResourceReader reader, Db db, string mediaType) : IResult
{
    public const string Csv = "text/csv";
    public const string Ndjson = "application/x-ndjson";

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
        var resource = query.Resource;
        var columns = CsvColumns(resource, query.Fields);
        if (mediaType == Csv) await Write(body, string.Join(",", columns) + "\r\n", http.RequestAborted);

        var buffer = new MemoryStream();
        foreach (var row in reader.Stream(db.Open, query))
        {
            if (mediaType == Csv)
            {
                var line = string.Join(",", columns.Select(c => Cell(resource, row, c))) + "\r\n";
                await Write(body, line, http.RequestAborted);
                continue;
            }
            buffer.SetLength(0);
            using (var writer = new Utf8JsonWriter(buffer, JsonBody.WriterOptions)) RecordJson.WriteRecord(writer, resource, row, query.Fields);
            buffer.WriteByte((byte)'\n');
            await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted);
        }
    }

    private static async ValueTask Write(System.IO.Pipelines.PipeWriter body, string text, CancellationToken cancel) =>
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), cancel);

    /// <summary>CSV has no nesting: citations are left out, to-many ids are joined with ';'.</summary>
    private static List<string> CsvColumns(Resource resource, IReadOnlySet<string>? fields) =>
        [.. resource.FieldNames.Where(n => n != "citations" && (fields is null || n == "id" || fields.Contains(n)))];

    private static string Cell(Resource resource, Row row, string column)
    {
        var index = resource.ColumnIndex(column);
        var text = index >= 0
            ? resource.Columns[index].Type == FieldType.Boolean && row.Values[index] is long b ? (b != 0 ? "true" : "false") : ResourceReader.Format(row.Values[index])
            : string.Join(";", row.Many[column]);
        return text.IndexOfAny([',', '"', '\r', '\n']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
    }
}
