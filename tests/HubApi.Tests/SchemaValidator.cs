using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HubApi.Tests;

/// <summary>
/// Checks a JSON value against an OpenAPI 3.0 schema, for the keywords HubApi's document uses: $ref, type, nullable,
/// properties, required, additionalProperties, items, enum, oneOf, pattern, minimum/maximum, maxLength.
/// </summary>
public sealed class SchemaValidator(JsonObject document)
{
    public List<string> Validate(JsonNode? value, JsonNode schema, string path = "$")
    {
        var errors = new List<string>();
        Check(value, schema, path, errors);
        return errors;
    }

    private JsonObject Resolve(JsonNode schema)
    {
        var s = schema.AsObject();
        while (s["$ref"]?.GetValue<string>() is { } reference)
        {
            s = reference.TrimStart('#', '/').Split('/').Aggregate((JsonNode)document, (node, part) => node[part]!).AsObject();
        }
        return s;
    }

    private void Check(JsonNode? value, JsonNode schemaNode, string path, List<string> errors)
    {
        var schema = Resolve(schemaNode);
        if (value is null)
        {
            if (schema["nullable"]?.GetValue<bool>() != true && schema["type"] is not null) errors.Add($"{path}: null is not allowed");
            return;
        }
        if (schema["oneOf"] is JsonArray oneOf)
        {
            var matches = oneOf.Count(option => Validate(value, option!, path).Count == 0);
            if (matches != 1) errors.Add($"{path}: matches {matches} of the oneOf options");
            return;
        }
        var kind = value.GetValueKind();
        switch (schema["type"]?.GetValue<string>())
        {
            case "object":
                if (value is not JsonObject obj) { errors.Add($"{path}: expected an object"); return; }
                var properties = schema["properties"]?.AsObject();
                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    if (!obj.ContainsKey(required!.GetValue<string>())) errors.Add($"{path}: missing {required}");
                }
                foreach (var (name, child) in obj)
                {
                    if (properties?[name] is { } propertySchema) Check(child, propertySchema, $"{path}.{name}", errors);
                    else if (schema["additionalProperties"] is JsonObject extra) Check(child, extra, $"{path}.{name}", errors);
                    else if (schema["additionalProperties"]?.GetValueKind() == System.Text.Json.JsonValueKind.False) errors.Add($"{path}: unexpected property {name}");
                }
                break;
            case "array":
                if (value is not JsonArray array) { errors.Add($"{path}: expected an array"); return; }
                for (var i = 0; i < array.Count; i++) Check(array[i], schema["items"]!, $"{path}[{i}]", errors);
                break;
            case "string":
                if (kind != System.Text.Json.JsonValueKind.String) { errors.Add($"{path}: expected a string"); return; }
                var text = value.GetValue<string>();
                if (schema["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(text, pattern)) errors.Add($"{path}: '{text}' does not match {pattern}");
                if (schema["enum"] is JsonArray values && !values.Any(v => v?.GetValue<string>() == text)) errors.Add($"{path}: '{text}' is not in the enum");
                if (schema["format"]?.GetValue<string>() == "date-time" && !DateTimeOffset.TryParse(text, out _)) errors.Add($"{path}: '{text}' is not a date-time");
                break;
            case "integer":
                if (kind != System.Text.Json.JsonValueKind.Number || !value.AsValue().TryGetValue<long>(out _)) errors.Add($"{path}: expected an integer");
                break;
            case "number":
                if (kind != System.Text.Json.JsonValueKind.Number) errors.Add($"{path}: expected a number");
                break;
            case "boolean":
                if (kind is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)) errors.Add($"{path}: expected a boolean");
                break;
        }
    }
}
