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
        for (var i = 0; i < metaStart; i++) WriteColumn(w, resource, columns[i], row.Values[i], fields);

        foreach (var relation in resource.ToMany)
        {
            if (fields is not null && !fields.Contains(relation.Name)) continue;
            w.WriteStartArray(relation.Name);
            foreach (var id in row.Many[relation.Name]) w.WriteStringValue(id);
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

        for (var i = metaStart; i < columns.Count; i++) WriteColumn(w, resource, columns[i], row.Values[i], fields);
        if (included is { Count: > 0 }) WriteEmbedded(w, resource, row, included);
        w.WriteEndObject();
    }

    /// <summary>
    /// The records `include` names, under `embedded`, by relation; the record's own relations stay ids. A to-one relation
    /// that is null is left out.
    /// </summary>
    private static void WriteEmbedded(Utf8JsonWriter w, Resource resource, Row row, IReadOnlyDictionary<Relation, Dictionary<string, Row>> included)
    {
        w.WriteStartObject("embedded");
        foreach (var relation in resource.Relations)
        {
            if (!included.TryGetValue(relation, out var records)) continue;
            if (relation.Many)
            {
                w.WriteStartArray(relation.Name);
                foreach (var id in row.Many[relation.Name])
                {
                    if (records.TryGetValue(id, out var target)) WriteRecord(w, relation.To, target);
                }
                w.WriteEndArray();
            }
            else if (row.Values[resource.ColumnIndex(relation.Name)] is string id && records.TryGetValue(id, out var target))
            {
                w.WritePropertyName(relation.Name);
                WriteRecord(w, relation.To, target);
            }
        }
        w.WriteEndObject();
    }

    private static void WriteColumn(Utf8JsonWriter w, Resource resource, Column column, object? value, IReadOnlySet<string>? fields)
    {
        if (fields is not null && column.Name != "id" && !fields.Contains(column.Name)) return;
        w.WritePropertyName(column.Name);
        if (value is null)
        {
            w.WriteNullValue();
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
