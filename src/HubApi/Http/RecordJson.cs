using System.Text.Json;

using HubApi.Resources;

namespace HubApi.Http;

/// <summary>
/// Writes records straight from rows with Utf8JsonWriter. Sparse fieldsets and includes change the shape per
/// request, so rows are written directly; the OpenAPI schemas say the same from the same descriptions, and the
/// contract tests hold the two together.
/// </summary>
public static class RecordJson
{
    public static void WriteRecord(Utf8JsonWriter w, Resource resource, Row row,
        IReadOnlySet<string>? fields = null, IReadOnlyDictionary<Relation, Dictionary<string, Row>>? included = null)
    {
        w.WriteStartObject();
        var columns = resource.Columns;
        var metaStart = columns.Count - 3; // version, createdAt, updatedAt close the record
        for (var i = 0; i < metaStart; i++) WriteColumn(w, resource, columns[i], row.Values[i], fields, included);

        foreach (var relation in resource.ToMany)
        {
            if (fields is not null && !fields.Contains(relation.Name)) continue;
            w.WriteStartArray(relation.Name);
            var embedded = included?.GetValueOrDefault(relation);
            foreach (var id in row.Many[relation.Name])
            {
                if (embedded is null) w.WriteStringValue(id);
                else if (embedded.TryGetValue(id, out var target)) WriteRecord(w, relation.To, target);
            }
            w.WriteEndArray();
        }

        if (fields is null || fields.Contains("citations"))
        {
            w.WriteStartArray("citations");
            foreach (var c in row.Citations)
            {
                w.WriteStartObject();
                w.WriteString("source", c.Source);
                w.WriteString("quote", c.Quote);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }

        for (var i = metaStart; i < columns.Count; i++) WriteColumn(w, resource, columns[i], row.Values[i], fields, included);
        w.WriteEndObject();
    }

    private static void WriteColumn(Utf8JsonWriter w, Resource resource, Column column, object? value,
        IReadOnlySet<string>? fields, IReadOnlyDictionary<Relation, Dictionary<string, Row>>? included)
    {
        if (fields is not null && column.Name != "id" && !fields.Contains(column.Name)) return;
        w.WritePropertyName(column.Name);
        if (value is null)
        {
            w.WriteNullValue();
            return;
        }
        if (included is not null && resource.Relation(column.Name) is { } relation && included.TryGetValue(relation, out var embedded))
        {
            if (embedded.TryGetValue((string)value, out var target)) WriteRecord(w, relation.To, target);
            else w.WriteNullValue();
            return;
        }
        switch (column.Type)
        {
            case FieldType.Boolean: w.WriteBooleanValue(Convert.ToInt64(value) != 0); break;
            case FieldType.Integer: w.WriteNumberValue(Convert.ToInt64(value)); break;
            case FieldType.Number: w.WriteNumberValue(Convert.ToDouble(value)); break;
            default: w.WriteStringValue((string)value); break;
        }
    }

    public static void WritePage(Utf8JsonWriter w, Resource resource, RowPage page, IReadOnlySet<string>? fields)
    {
        w.WriteStartObject();
        w.WriteStartArray("items");
        foreach (var row in page.Rows) WriteRecord(w, resource, row, fields, page.Included);
        w.WriteEndArray();
        w.WriteString("next", page.Next);
        if (page.Total is { } total) w.WriteNumber("total", total);
        w.WriteEndObject();
    }
}
