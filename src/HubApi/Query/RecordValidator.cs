using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Internal;
using FluentValidation.Results;
using HubApi.Resources;

namespace HubApi.Query;

/// <summary>
/// A write body to validate: a full record as it would be stored (with its id filled in), or a merge patch before it is
/// applied (<paramref name="IsPatch"/>: only the members it names are checked, and as null clears, null is refused only
/// where a value is required); and the id the URL names (PUT and PATCH).
/// </summary>
public sealed record RecordCandidate(JsonObject Record, string? RouteId, bool IsPatch = false)
{
    /// <summary>Whether a record exists, asked inside the write's transaction: what <see cref="RecordValidator.References"/> needs.</summary>
    public Func<Resource, string, bool> Exists { get; init; } =
        (_, _) => throw new InvalidOperationException("References are checked inside a write: give the candidate its Exists.");

    /// <summary>Whether a body names a member: a record names them all (a missing one is null), a patch only those it has.</summary>
    public bool Names(string member) => !IsPatch || Record.ContainsKey(member);
}

/// <summary>
/// Validates the records of any resource from its definition: which properties a body may carry, the JSON type, length,
/// range and allowed values of each, and, in the <see cref="References"/> rule set, that every id it refers to exists.
/// Errors are keyed by the property's JSON path (<c>zone</c>, <c>industries[1]</c>, <c>citations[0].source</c>).
/// </summary>
public sealed class RecordValidator : AbstractValidator<RecordCandidate>
{
    public const int MaxLinks = 100;
    public const int MaxCitations = 50;
    public const int QuoteMaxLength = 2000;

    /// <summary>The rules that need the database (the records a body refers to exist): run inside the write's transaction.</summary>
    public const string References = "references";

    /// <summary>
    /// The validator of a resource's records. Building one compiles a few dozen rule expressions (tens of milliseconds);
    /// a resource's description never changes, so each is built once per process and shared by every host in it.
    /// </summary>
    public static RecordValidator For(Resource resource, Resource sources) => Built.GetValue(resource, r => new RecordValidator(r, sources));

    private static readonly ConditionalWeakTable<Resource, RecordValidator> Built = new();

    /// <param name="resource">What the records are.</param>
    /// <param name="sources">The resource citations point at.</param>
    public RecordValidator(Resource resource, Resource sources)
    {
        // Each property reports its first problem only (a number that is not one has no range to check); lists go on
        // to report every bad item (RuleForEach rules set Continue).
        RuleLevelCascadeMode = CascadeMode.Stop;
        Members(resource);
        Id();
        Name();
        foreach (var field in resource.Fields) Scalar(field);
        foreach (var relation in resource.ToOne) ToOne(relation);
        foreach (var relation in resource.ToMany) ToMany(relation);
        Citations(resource, sources);
    }

    // Validate(candidate) runs the rules that need no database, before a write's transaction begins.

    /// <summary>Only the rules that need the database, inside the transaction, for a body that has passed the others.</summary>
    public ValidationResult ValidateReferences(RecordCandidate candidate) =>
        Validate(new ValidationContext<RecordCandidate>(candidate, new PropertyChain(), ReferencesOnly));

    /// <summary>Every rule, inside the transaction, for a record put together there: a patch merged into the current record.</summary>
    public ValidationResult ValidateAll(RecordCandidate candidate) =>
        Validate(new ValidationContext<RecordCandidate>(candidate, new PropertyChain(), Everything));

    private static readonly IValidatorSelector ReferencesOnly = new ReferenceRules(others: false);
    private static readonly IValidatorSelector Everything = new ReferenceRules(others: true);

    /// <summary>
    /// Selects the <see cref="References"/> rules, and the rules in no rule set when <paramref name="others"/>. The stock
    /// RulesetValidatorSelector does the same but allocates for every rule it is asked about, on every write.
    /// </summary>
    private sealed class ReferenceRules(bool others) : IValidatorSelector
    {
        public bool CanExecute(IValidationRule rule, string propertyPath, IValidationContext context) =>
            rule.RuleSets is { Length: > 0 } sets ? Array.IndexOf(sets, References) >= 0 : others;
    }

    /// <summary>Which members a body may carry: its resource's writable properties, never the server-owned ones.</summary>
    private void Members(Resource resource)
    {
        var writable = resource.WritableNames.ToHashSet(StringComparer.Ordinal);
        var list = string.Join(", ", resource.WritableNames);
        // Custom, because each error is keyed by the offending member's own name, which no property rule can name in advance.
        RuleFor(c => c.Record).Custom((record, context) =>
        {
            foreach (var (name, _) in record)
            {
                if (Resource.ServerOwned.Contains(name))
                    context.AddFailure(name, $"{name} is set by the server on every write; leave it out.");
                else if (!writable.Contains(name))
                    context.AddFailure(Trim(name), $"Unknown property '{Trim(name)}'. {resource.IndefiniteCapitalized} has: {list}.");
            }
        });
    }

    private void Id() =>
        RuleFor(c => c.Record["id"])
            // Without a usable name the name's own error says enough; a patch keeps the record's id.
            .Must((c, node) => node is not null || c.IsPatch || string.IsNullOrWhiteSpace(Text(c.Record["name"])))
            .WithMessage("id is required: none could be derived from the name; give one of lowercase letters, digits and single hyphens.")
            .Must(node => node is null || IsString(node)).WithMessage("id must be a string.")
            .OverridePropertyName("id")
            .DependentRules(() => RuleFor(c => Text(c.Record["id"]))
                .Must(id => id is null || Ids.IsId(id))
                .WithMessage((_, id) => $"'{Trim(id!)}' is not an id: use lowercase letters, digits and single hyphens, at most {Resource.IdMaxLength} characters.")
                .Must((c, id) => id is null || c.RouteId is null || id == c.RouteId)
                .WithMessage((c, id) => $"The body's id '{id}' differs from the URL's '{Trim(c.RouteId!)}'; ids cannot be changed.")
                .OverridePropertyName("id"));

    private void Name() =>
        RuleFor(c => c.Record["name"])
            .NotNull().When(c => c.Names("name"), ApplyConditionTo.CurrentValidator).WithMessage("name is required.")
            .Must(n => n is null || IsString(n)).WithMessage("name must be a string.")
            .OverridePropertyName("name")
            .DependentRules(() => RuleFor(c => Text(c.Record["name"]))
                .NotEmpty().When(c => c.Names("name"), ApplyConditionTo.CurrentValidator).WithMessage("name must not be blank.")
                .MaximumLength(Resource.NameMaxLength).WithMessage($"name must be at most {Resource.NameMaxLength} characters.")
                .OverridePropertyName("name"));

    private void Scalar(Field field)
    {
        var name = field.Name;
        IRuleBuilder<RecordCandidate, JsonNode?> node = RuleFor(c => c.Record[name]);
        if (!field.Nullable) node = node.NotNull().When(c => c.Names(name), ApplyConditionTo.CurrentValidator).WithMessage($"{name} is required.");
        switch (field.Type)
        {
            case FieldType.Boolean:
                node.Must(n => n is null || n.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                    .WithMessage($"{name} must be true or false.").OverridePropertyName(name);
                break;
            case FieldType.Integer or FieldType.Number:
                node.Must(n => n is null || Numeric(n, field.Type) is not null)
                    .WithMessage($"{name} must be {(field.Type == FieldType.Integer ? "a whole number" : "a number")}.")
                    .OverridePropertyName(name)
                    .DependentRules(() => Bounds(field));
                break;
            default:
                node.Must(n => n is null || IsString(n))
                    .WithMessage($"{name} must be a string{(field.Nullable ? " or null" : "")}.").OverridePropertyName(name)
                    .DependentRules(() => Wording(field));
                break;
        }
    }

    private void Bounds(Field field)
    {
        if (field.Minimum == double.MinValue && field.Maximum == double.MaxValue) return;
        IRuleBuilder<RecordCandidate, double?> value = RuleFor(c => Numeric(c.Record[field.Name], field.Type));
        if (field.Minimum != double.MinValue)
            value = value.GreaterThanOrEqualTo(field.Minimum).WithMessage($"{field.Name} must be at least {field.Minimum}.").OverridePropertyName(field.Name);
        if (field.Maximum != double.MaxValue)
            value.LessThanOrEqualTo(field.Maximum).WithMessage($"{field.Name} must be at most {field.Maximum}.").OverridePropertyName(field.Name);
    }

    private void Wording(Field field)
    {
        IRuleBuilder<RecordCandidate, string?> text = RuleFor(c => Text(c.Record[field.Name]));
        if (field.Values is { } values)
        {
            var allowed = string.Join(", ", values);
            text = text.Must(v => v is null || values.Contains(v))
                .WithMessage((_, v) => $"'{Trim(v!)}' is not a {field.Name} value. Allowed: {allowed}.");
        }
        text.MaximumLength(field.MaxLength).WithMessage($"{field.Name} must be at most {field.MaxLength} characters.")
            .OverridePropertyName(field.Name);
    }

    private void ToOne(Relation relation)
    {
        var (name, target) = (relation.Name, relation.To);
        RuleFor(c => c.Record[name])
            .Must(n => n is null || Text(n) is { } id && Ids.IsId(id))
            .WithMessage($"{name} must be the id of {target.Indefinite}, or null.").OverridePropertyName(name);
        RuleSet(References, () => RuleFor(c => Text(c.Record[name]))
            .Must((c, id) => id is null || !Ids.IsId(id) || c.Exists(target, id))
            .WithMessage((_, id) => $"There is no {target.Singular} with id '{Trim(id!)}'.").OverridePropertyName(name));
    }

    private void ToMany(Relation relation)
    {
        var (name, target) = (relation.Name, relation.To);
        RuleFor(c => c.Record[name])
            .Must(n => n is null or JsonArray).WithMessage($"{name} must be an array of {target.Name} ids.")
            .Must(n => n is not JsonArray items || items.Count <= MaxLinks).WithMessage($"{name} may list at most {MaxLinks} ids.")
            .OverridePropertyName(name);
        RuleForEach(c => Links(c.Record[name])).Cascade(CascadeMode.Continue)
            .Must(link => link.Id is not null).WithMessage($"Each of {name} must be the id of {target.Indefinite}.")
            .Must(link => !link.Repeated).WithMessage((_, link) => $"'{link.Id}' is listed twice.")
            .OverridePropertyName(name);
        RuleSet(References, () => RuleForEach(c => Links(c.Record[name])).Cascade(CascadeMode.Continue)
            .Must((c, link) => link.Id is null || link.Repeated || c.Exists(target, link.Id))
            .WithMessage((_, link) => $"There is no {target.Singular} with id '{Trim(link.Id!)}'.").OverridePropertyName(name));
    }

    private void Citations(Resource resource, Resource sources)
    {
        RuleFor(c => c.Record["citations"])
            .Must(n => n is null or JsonArray).WithMessage("citations must be an array of {\"source\", \"quote\"} objects.")
            .Must(n => n is not JsonArray items || items.Count <= MaxCitations)
            .WithMessage($"A record may carry at most {MaxCitations} citations.")
            .OverridePropertyName("citations");
        // An item that is not an object comes as null: NotNull reports it, and the child rules pass it by.
        RuleForEach(c => CitationsOf(c.Record["citations"])).Cascade(CascadeMode.Continue)
            .NotNull().WithMessage("A citation must be an object with a source id and a quote.")
            .ChildRules(Citation)
            .OverridePropertyName("citations");
        // A new source may cite itself: it exists by the time its citations are written.
        var self = resource == sources;
        RuleSet(References, () => RuleForEach(c => CitedSources(c.Record, self)).Cascade(CascadeMode.Continue)
            .OverrideIndexer((_, _, _, i) => $"[{i}].source")
            .Must((c, source) => source is null || c.Exists(sources, source))
            .WithMessage((_, source) => $"There is no source with id '{Trim(source!)}'.")
            .OverridePropertyName("citations"));
    }

    private static void Citation(InlineValidator<JsonObject?> citation)
    {
        citation.RuleLevelCascadeMode = CascadeMode.Stop;
        // Custom for the same reason as the record's members: each error is keyed by the unknown member's own name.
        citation.RuleFor(c => c!).Custom((members, context) =>
        {
            foreach (var (name, _) in members)
            {
                if (name is not ("source" or "quote")) context.AddFailure(Trim(name), $"Unknown property '{Trim(name)}'. A citation has: source, quote.");
            }
        });
        citation.RuleFor(c => Text(c!["source"]))
            .Must(source => source is not null && Ids.IsId(source)).WithMessage("source must be the id of a source.")
            .OverridePropertyName("source");
        citation.RuleFor(c => Text(c!["quote"]))
            .NotEmpty().WithMessage("quote must be a non-empty string: the supporting sentence, verbatim.")
            .MaximumLength(QuoteMaxLength).WithMessage($"quote must be at most {QuoteMaxLength} characters.")
            .OverridePropertyName("quote");
    }

    /// <summary>One item of a to-many list: its id, when it is one, and whether an earlier item already listed it.</summary>
    private readonly record struct Link(string? Id, bool Repeated);

    /// <summary>The items of a list of ids; none when it is not a list, or too long to check item by item.</summary>
    private static IEnumerable<Link> Links(JsonNode? node) => node is JsonArray items && items.Count <= MaxLinks ? LinksOf(items) : [];

    private static IEnumerable<Link> LinksOf(JsonArray items)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var id = Text(item) is { } text && Ids.IsId(text) ? text : null;
            yield return new Link(id, id is not null && !seen.Add(id));
        }
    }

    /// <summary>The citations of a list, null for an item that is not an object; none when it is not a list, or too long.</summary>
    private static IEnumerable<JsonObject?> CitationsOf(JsonNode? node) =>
        node is JsonArray items && items.Count <= MaxCitations ? items.Select(item => item as JsonObject) : [];

    /// <summary>The source each citation names, in order; null where there is none to look up (or the record cites itself).</summary>
    private static IEnumerable<string?> CitedSources(JsonObject record, bool self)
    {
        var own = self ? Text(record["id"]) : null;
        foreach (var citation in CitationsOf(record["citations"]))
            yield return citation is not null && Text(citation["source"]) is { } source && Ids.IsId(source) && source != own ? source : null;
    }

    private static double? Numeric(JsonNode? node, FieldType type)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number) return null;
        if (type == FieldType.Integer) return value.TryGetValue<long>(out var whole) ? whole : null;
        return value.TryGetValue<double>(out var number) && double.IsFinite(number) ? number : null;
    }

    private static bool IsString(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String;

    private static string? Text(JsonNode? node) => IsString(node) ? node!.GetValue<string>() : null;

    /// <summary>Echo at most a short prefix of user input in error messages.</summary>
    private static string Trim(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
