using System.Text.RegularExpressions;

namespace HubApi.Resources;

public enum FieldType { Text, Integer, Number, Boolean }

/// <summary>A scalar column of a resource, and what the query language may do with it.</summary>
public sealed record Field(string Name, string Column, FieldType Type)
{
    public bool Nullable { get; init; } = true;
    public bool Sortable { get; init; }
    /// <summary>Text: equality on a comma-separated list; Boolean: equality; Integer/Number: a range.</summary>
    public bool Filterable { get; init; }
    /// <summary>Allowed values, for categories such as a service's area.</summary>
    public string[]? Values { get; init; }
    /// <summary>What the <see cref="Values"/> stand for, as the named type of the values says it.</summary>
    public string? ValuesDescription { get; init; }
    public int MaxLength { get; init; } = 2000;
    public double Minimum { get; init; } = double.MinValue;
    public double Maximum { get; init; } = double.MaxValue;
    /// <summary>Names of the range parameters, e.g. ("deadlineFrom", "deadlineTo").</summary>
    public (string Low, string High)? RangeNames { get; init; }
    /// <summary>What the field holds, as its property in records and write bodies says it.</summary>
    public string Description { get; init; } = "";
    /// <summary>What the field's filter parameters say of it, where that differs from <see cref="Description"/>.</summary>
    public string? FilterDescription { get; init; }

    public (string Low, string High) Range => RangeNames ?? (Name + "Min", Name + "Max");
}

/// <summary>A link to another resource: a foreign-key column (to one) or a join table (to many).</summary>
public sealed record Relation(string Name, string Target, string FilterName)
{
    private Resource? to;

    /// <summary>The target resource itself, linked by the <see cref="ResourceCatalog"/> that holds both.</summary>
    public Resource To => to ?? throw new InvalidOperationException($"The relation '{Name}' is not in a catalog: build a ResourceCatalog first.");

    internal void Link(Resource target) => to = target;

    public string? Column { get; init; }
    public string? JoinTable { get; init; }
    public string? OwnColumn { get; init; }
    public string? OtherColumn { get; init; }
    /// <summary>What the property holds: the id, or the ids, of the related records.</summary>
    public string Description { get; init; } = "";
    /// <summary>What the relation's filter parameter says of the related records.</summary>
    public string FilterDescription { get; init; } = "";

    public bool Many => JoinTable is not null;

    public static Relation ToOne(string name, string target, string column, string description, string filterDescription) =>
        new(name, target, name) { Column = column, Description = description, FilterDescription = filterDescription };

    public static Relation ToMany(string name, string target, string filterName, string joinTable,
        string ownColumn, string otherColumn, string description, string filterDescription) =>
        new(name, target, filterName)
        {
            JoinTable = joinTable, OwnColumn = ownColumn, OtherColumn = otherColumn,
            Description = description, FilterDescription = filterDescription,
        };
}

/// <summary>
/// Everything the shared machinery needs to know about one resource, and the only description of it: its table, its
/// fields and relations (what can be filtered, sorted, selected and included) and their docs. The OpenAPI schemas of
/// its records, write bodies and pages are built from it.
/// </summary>
public sealed class Resource
{
    public required string Name { get; init; }
    public required string Singular { get; init; }
    /// <summary>What the collection holds (the tag's and the list's description).</summary>
    public required string Description { get; init; }
    /// <summary>What one record is (the record schema's description).</summary>
    public required string RecordDescription { get; init; }
    /// <summary>What `name` holds, where it is not "The {singular}'s name." (a target's title).</summary>
    public string? NameDescription { get; init; }
    /// <summary>What `citations` hold, where not "Quotes from the sources that support this record." (a source's own fields).</summary>
    public string? CitationsDescription { get; init; }
    /// <summary>What a write body is, where it is not "A {singular} as POST and PUT write it; ...".</summary>
    public string? InputDescription { get; init; }
    public required string ExampleId { get; init; }
    /// <summary>
    /// A number unique among the resources and part of the stored data (the search index numbers its rows by it):
    /// never changed, never reused.
    /// </summary>
    public required int Code { get; init; }
    public string Table => Name;
    public IReadOnlyList<Field> Fields { get; init; } = [];
    public IReadOnlyList<Relation> Relations { get; init; } = [];

    /// <summary>Properties every record carries besides its own fields.</summary>
    public static readonly string[] Meta = ["citations", "version", "createdAt", "updatedAt"];

    /// <summary>Properties the server sets on every write; a body that names them is refused.</summary>
    public static readonly string[] ServerOwned = ["version", "createdAt", "updatedAt"];

    public const int IdMaxLength = 100;
    public const int NameMaxLength = 200;

    public string Title => char.ToUpperInvariant(Name[0]) + Name[1..];
    /// <summary>The singular with its indefinite article, for messages and docs: "a firm", "an industry".</summary>
    public string Indefinite => field ??= ("aeiou".Contains(Singular[0]) ? "an " : "a ") + Singular;

    /// <summary><see cref="Indefinite"/> at the start of a sentence: "A firm", "An industry".</summary>
    public string IndefiniteCapitalized => field ??= char.ToUpperInvariant(Indefinite[0]) + Indefinite[1..];

    public string SingularTitle => char.ToUpperInvariant(Singular[0]) + Singular[1..];

    /// <summary>The relations of other resources that point at this one, linked by the catalog: what can block a delete.</summary>
    public IReadOnlyList<(Resource Owner, Relation Relation)> ReferencedBy { get; internal set; } = [];

    public IEnumerable<Relation> ToOne => Relations.Where(r => !r.Many);
    public IEnumerable<Relation> ToMany => Relations.Where(r => r.Many);

    /// <summary>Sortable names: the sortable fields plus name (id is always the final tie-breaker).</summary>
    public IReadOnlyList<string> SortNames => field ??=
        ["id", "name", .. Fields.Where(f => f.Sortable).Select(f => f.Name), "createdAt", "updatedAt"];

    public IEnumerable<Field> Filters => Fields.Where(f => f.Filterable);

    /// <summary>What can be counted per value: relations (by their filter name) and text or boolean categories.</summary>
    public IReadOnlyList<string> FacetNames => field ??=
        [.. Relations.Select(r => r.FilterName), .. Filters.Where(f => f.Type is FieldType.Text or FieldType.Boolean).Select(f => f.Name)];

    public IReadOnlyList<string> FieldNames => field ??=
        ["id", "name", .. Fields.Select(f => f.Name), .. Relations.Select(r => r.Name), .. Meta];

    public IReadOnlyList<string> IncludeNames => field ??= [.. Relations.Select(r => r.Name)];

    /// <summary>What a write body may carry, in JSON order: everything but the server-owned properties.</summary>
    public IReadOnlyList<string> WritableNames => field ??=
        ["id", "name", .. Fields.Select(f => f.Name), .. Relations.Select(r => r.Name), "citations"];

    public Relation? Relation(string name) => Relations.FirstOrDefault(r => r.Name == name);

    /// <summary>The selected columns, in JSON order: id, name, own fields, to-one relations, version, timestamps.</summary>
    public IReadOnlyList<Column> Columns => field ??=
    [
        new("id", "id", FieldType.Text, Nullable: false),
        new("name", "name", FieldType.Text, Nullable: false),
        .. Fields.Select(f => new Column(f.Name, f.Column, f.Type, f.Nullable)),
        .. ToOne.Select(r => new Column(r.Name, r.Column!, FieldType.Text, Nullable: true)),
        new("version", "version", FieldType.Integer, Nullable: false),
        new("createdAt", "created_at", FieldType.Text, Nullable: false),
        new("updatedAt", "updated_at", FieldType.Text, Nullable: false),
    ];

    public int ColumnIndex(string name)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i].Name == name) return i;
        }
        return -1;
    }

    public string SelectList => field ??= string.Join(", ", Columns.Select(c => "t." + c.Sql));
}

/// <summary>A selected column: its JSON name, its SQL name and its type.</summary>
public sealed record Column(string Name, string Sql, FieldType Type, bool Nullable);

/// <summary>Record ids: stable, URL-safe slugs.</summary>
public static partial class Ids
{
    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    public static partial Regex Slug();

    public static bool IsId(string value) => value.Length <= Resource.IdMaxLength && Slug().IsMatch(value);

    /// <summary>The id a name suggests: lowercase ASCII letters and digits, runs of anything else as one hyphen; null when nothing is left.</summary>
    public static string? From(string name)
    {
        var slug = new System.Text.StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
            if (slug.Length >= Resource.IdMaxLength) break;
        }
        var id = slug.ToString().Trim('-');
        return id.Length == 0 ? null : id;
    }
}
