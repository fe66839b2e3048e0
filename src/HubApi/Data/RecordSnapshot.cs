using System.Buffers;
using System.Text;
using System.Text.Json;
using HubApi.Resources;

namespace HubApi.Data;

/// <summary>
/// A record as it was at one version, kept in the versions table: the <see cref="Row"/> read inside the write that made
/// it, written as compact JSON (<c>{"values":[...],"many":{...},"citations":[[source, quote],...]}</c>). Read back,
/// it renders exactly as the record's GET did at that version.
/// </summary>
public static class RecordSnapshot
{
    public static string Write(Resource resource, Row row)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("values");
            foreach (var value in row.Values)
            {
                switch (value)
                {
                    case null: w.WriteNullValue(); break;
                    case long l: w.WriteNumberValue(l); break;
                    case int i: w.WriteNumberValue(i); break;
                    case double d: w.WriteNumberValue(d); break;
                    case decimal m: w.WriteNumberValue(m); break;
                    case bool b: w.WriteNumberValue(b ? 1 : 0); break;
                    default: w.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
                }
            }
            w.WriteEndArray();
            w.WriteStartObject("many");
            foreach (var relation in resource.ToMany)
            {
                w.WriteStartArray(relation.Name);
                foreach (var id in row.Many.GetValueOrDefault(relation.Name) ?? []) w.WriteStringValue(id);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteStartArray("citations");
            foreach (var c in row.Citations)
            {
                w.WriteStartArray();
                w.WriteStringValue(c.Source);
                w.WriteStringValue(c.Quote);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The row a snapshot was made of, each value of its column's type as the readers give it.</summary>
    public static Row Read(Resource resource, string snapshot)
    {
        using var document = JsonDocument.Parse(snapshot);
        var root = document.RootElement;
        var columns = resource.Columns;
        var values = new object?[columns.Count];
        var i = 0;
        foreach (var value in root.GetProperty("values").EnumerateArray())
        {
            if (i >= values.Length) break;
            values[i] = value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.Number when columns[i].Type is FieldType.Number => value.GetDouble(),
                JsonValueKind.Number => value.TryGetInt64(out var l) ? l : value.GetDouble(),
                _ => value.GetString(),
            };
            i++;
        }
        var row = new Row(values);
        var many = root.GetProperty("many");
        foreach (var relation in resource.ToMany)
        {
            row.Many[relation.Name] = many.TryGetProperty(relation.Name, out var ids) ? [.. ids.EnumerateArray().Select(e => e.GetString()!)] : [];
        }
        foreach (var c in root.GetProperty("citations").EnumerateArray()) row.Citations.Add(new Citation(c[0].GetString()!, c[1].GetString()!));
        return row;
    }
}
