using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using HubApi.Resources;

namespace HubApi.Query;

/// <summary>
/// A write body as it would be stored (after a merge patch, with its id filled in), the id the URL names
/// (PUT and PATCH), and a way to ask whether a referenced record exists inside the write's transaction.
/// </summary>
public sealed record RecordCandidate(JsonObject Record, string? RouteId, Func<Resource, string, bool> Exists);

/// <summary>
/// Validates a full record of any resource from its definition: which properties it may carry, the JSON type,
/// length, range and allowed values of each field, and that every id it refers to exists. Errors are keyed by
/// the property's JSON path (<c>zone</c>, <c>industries[1]</c>, <c>citations[0].source</c>).
/// </summary>
public sealed class RecordValidator : AbstractValidator<RecordCandidate>
{
    public const int MaxLinks = 100;
    public const int MaxCitations = 50;
    public const int QuoteMaxLength = 2000;
    private static readonly string[] CitationNames = ["source", "quote"];

    /// <param name="resource">What the records are.</param>
    /// <param name="sources">The resource citations point at.</param>
    public RecordValidator(Resource resource, Resource sources)
    {
        var writable = resource.WritableNames.ToHashSet(StringComparer.Ordinal);

        RuleFor(c => c).Custom((c, context) =>
        {
            foreach (var (name, _) in c.Record)
            {
                if (Resource.ServerOwned.Contains(name))
                    context.AddFailure(name, $"{name} is set by the server on every write; leave it out.");
                else if (!writable.Contains(name))
                    context.AddFailure(Trim(name), $"Unknown property '{Trim(name)}'. A {resource.Singular} has: {string.Join(", ", resource.WritableNames)}.");
            }
        });

        RuleFor(c => c).Custom((c, context) =>
        {
            var node = c.Record["id"];
            if (node is null)
            {
                // Without a usable name the name's own error says enough.
                if (Text(c.Record["name"]) is { } name && !string.IsNullOrWhiteSpace(name))
                    context.AddFailure("id", "id is required: none could be derived from the name; give one of lowercase letters, digits and single hyphens.");
                return;
            }
            if (Text(node) is not { } id) context.AddFailure("id", "id must be a string.");
            else if (!Ids.IsId(id)) context.AddFailure("id", $"'{Trim(id)}' is not an id: use lowercase letters, digits and single hyphens, at most {Resource.IdMaxLength} characters.");
            else if (c.RouteId is not null && id != c.RouteId) context.AddFailure("id", $"The body's id '{id}' differs from the URL's '{Trim(c.RouteId)}'; ids cannot be changed.");
        });

        RuleFor(c => c).Custom((c, context) =>
        {
            var node = c.Record["name"];
            if (node is null) context.AddFailure("name", "name is required.");
            else if (Text(node) is not { } name) context.AddFailure("name", "name must be a string.");
            else if (string.IsNullOrWhiteSpace(name)) context.AddFailure("name", "name must not be blank.");
            else if (name.Length > Resource.NameMaxLength) context.AddFailure("name", $"name must be at most {Resource.NameMaxLength} characters.");
        });

        foreach (var field in resource.Fields)
        {
            RuleFor(c => c).Custom((c, context) =>
            {
                if (CheckField(field, c.Record[field.Name]) is { } error) context.AddFailure(field.Name, error);
            });
        }

        foreach (var relation in resource.ToOne)
        {
            var target = relation.To;
            RuleFor(c => c).Custom((c, context) =>
            {
                var node = c.Record[relation.Name];
                if (node is null) return;
                if (Text(node) is not { } id || !Ids.IsId(id)) context.AddFailure(relation.Name, $"{relation.Name} must be the id of a {target.Singular}, or null.");
                else if (!c.Exists(target, id)) context.AddFailure(relation.Name, $"There is no {target.Singular} with id '{Trim(id)}'.");
            });
        }

        foreach (var relation in resource.ToMany)
        {
            var target = relation.To;
            RuleFor(c => c).Custom((c, context) =>
            {
                var node = c.Record[relation.Name];
                if (node is null) return;
                if (node is not JsonArray items)
                {
                    context.AddFailure(relation.Name, $"{relation.Name} must be an array of {target.Name} ids.");
                    return;
                }
                if (items.Count > MaxLinks)
                {
                    context.AddFailure(relation.Name, $"{relation.Name} may list at most {MaxLinks} ids.");
                    return;
                }
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < items.Count; i++)
                {
                    var path = $"{relation.Name}[{i}]";
                    if (Text(items[i]) is not { } id || !Ids.IsId(id)) context.AddFailure(path, $"Each of {relation.Name} must be the id of a {target.Singular}.");
                    else if (!seen.Add(id)) context.AddFailure(path, $"'{id}' is listed twice.");
                    else if (!c.Exists(target, id)) context.AddFailure(path, $"There is no {target.Singular} with id '{Trim(id)}'.");
                }
            });
        }

        RuleFor(c => c).Custom((c, context) =>
        {
            var node = c.Record["citations"];
            if (node is null) return;
            if (node is not JsonArray citations)
            {
                context.AddFailure("citations", "citations must be an array of {\"source\", \"quote\"} objects.");
                return;
            }
            if (citations.Count > MaxCitations)
            {
                context.AddFailure("citations", $"A record may carry at most {MaxCitations} citations.");
                return;
            }
            // A new source may cite itself: it exists by the time its citations are written.
            var self = resource == sources ? Text(c.Record["id"]) : null;
            for (var i = 0; i < citations.Count; i++)
            {
                var path = $"citations[{i}]";
                if (citations[i] is not JsonObject citation)
                {
                    context.AddFailure(path, "A citation must be an object with a source id and a quote.");
                    continue;
                }
                foreach (var (name, _) in citation)
                {
                    if (!CitationNames.Contains(name)) context.AddFailure($"{path}.{Trim(name)}", $"Unknown property '{Trim(name)}'. A citation has: source, quote.");
                }
                if (Text(citation["source"]) is not { } source || !Ids.IsId(source))
                    context.AddFailure(path + ".source", "source must be the id of a source.");
                else if (source != self && !c.Exists(sources, source))
                    context.AddFailure(path + ".source", $"There is no source with id '{Trim(source)}'.");
                if (Text(citation["quote"]) is not { } quote || string.IsNullOrWhiteSpace(quote))
                    context.AddFailure(path + ".quote", "quote must be a non-empty string: the supporting sentence, verbatim.");
                else if (quote.Length > QuoteMaxLength)
                    context.AddFailure(path + ".quote", $"quote must be at most {QuoteMaxLength} characters.");
            }
        });
    }

    /// <summary>What is wrong with a field's value, or null when it is fine.</summary>
    private static string? CheckField(Field field, JsonNode? node)
    {
        if (node is null) return field.Nullable ? null : $"{field.Name} is required.";
        var kind = node.GetValueKind();
        switch (field.Type)
        {
            case FieldType.Boolean:
                return kind is JsonValueKind.True or JsonValueKind.False ? null : $"{field.Name} must be true or false.";
            case FieldType.Integer:
                if (kind != JsonValueKind.Number || !node.AsValue().TryGetValue<long>(out var whole)) return $"{field.Name} must be a whole number.";
                return InRange(field, whole);
            case FieldType.Number:
                if (kind != JsonValueKind.Number || !node.AsValue().TryGetValue<double>(out var number) || !double.IsFinite(number))
                    return $"{field.Name} must be a number.";
                return InRange(field, number);
            default:
                if (kind != JsonValueKind.String) return $"{field.Name} must be a string{(field.Nullable ? " or null" : "")}.";
                var text = node.GetValue<string>();
                if (field.Values is { } values && !values.Contains(text))
                    return $"'{Trim(text)}' is not a {field.Name} value. Allowed: {string.Join(", ", values)}.";
                return text.Length > field.MaxLength ? $"{field.Name} must be at most {field.MaxLength} characters." : null;
        }
    }

    private static string? InRange(Field field, double value) =>
        value < field.Minimum ? $"{field.Name} must be at least {field.Minimum}." :
        value > field.Maximum ? $"{field.Name} must be at most {field.Maximum}." : null;

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Echo at most a short prefix of user input in error messages.</summary>
    private static string Trim(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
