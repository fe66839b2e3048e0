using System.Text;
using Dapper;
using HubApi.Query;
using HubApi.Resources;

namespace HubApi.Data;

/// <summary>
/// A collection query as SQL, for any engine (its <see cref="SqlDialect"/> says what differs): its join (full-text
/// search), its conditions with their bound parameters, its order (always ending in a unique key, so keyset paging is
/// exact) and the fingerprint its cursors are bound to, the same on every engine. The only
/// identifiers that reach SQL come from the resource definitions; every value is a bound parameter.
/// </summary>
internal sealed record QueryPlan(Resource Resource, string Join, string Where, DynamicParameters Parameters, List<(string Sql, bool Descending)> Order, string Fingerprint)
{

    public static QueryPlan For(ListQuery query, SqlDialect sql)
    {
        var resource = query.Resource;
        var where = new List<string>();
        var parameters = new DynamicParameters();
        var fingerprint = new StringBuilder(resource.Name);
        var n = 0;
        string Bind(object? value)
        {
            var name = "p" + n++;
            parameters.Add(name, value);
            return "@" + name;
        }
        string In(IEnumerable<string> values) => "(" + string.Join(", ", values.Select(v => Bind(v))) + ")";

        if (query.Scope is { } scope)
        {
            where.Add(Condition(scope.Relation, In([scope.Id])));
            fingerprint.Append("|scope:").Append(scope.Relation.Name).Append('=').Append(scope.Id);
        }
        foreach (var (name, value) in query.Filters)
        {
            fingerprint.Append('|').Append(name).Append('=').Append(value);
            if (resource.Relations.FirstOrDefault(r => r.FilterName == name) is { } relation)
            {
                where.Add(Condition(relation, In(ListQuery.Split(value).Distinct())));
                continue;
            }
            foreach (var field in resource.Filters)
            {
                if (field.Name == name && field.Type == FieldType.Boolean)
                    where.Add($"t.{field.Column} = {Bind(value == "true" ? 1L : 0L)}");
                else if (field.Name == name)
                    where.Add($"t.{field.Column} in {In(ListQuery.Split(value).Distinct())}");
                else if (field.Range.Low == name && field.Type is FieldType.Integer or FieldType.Number)
                    where.Add($"t.{field.Column} >= {Bind(ListQueryValidator.ParseNumber(field, value))}");
                else if (field.Range.High == name && field.Type is FieldType.Integer or FieldType.Number)
                    where.Add($"t.{field.Column} <= {Bind(ListQueryValidator.ParseNumber(field, value))}");
            }
        }

        var join = "";
        string? rank = null;
        if (query.Search is { } search)
        {
            (join, var matches, rank) = sql.Search(resource, Bind, search);
            if (matches is not null) where.Add(matches);
            fingerprint.Append("|q=").Append(search);
        }

        var order = new List<(string, bool)>();
        foreach (var key in query.Sort)
        {
            order.Add((SortExpression(resource, key.Name, sql), key.Descending));
            fingerprint.Append("|sort:").Append(key.Descending ? "-" : "").Append(key.Name);
        }
        if (rank is not null && query.Sort.Count == 0) order.Add((rank, false));
        if (!query.Sort.Any(k => k.Name == "id")) order.Add(("t.id", false));

        return new QueryPlan(resource, join, where.Count == 0 ? "1 = 1" : string.Join(" and ", where), parameters, order, fingerprint.ToString());
    }

    private static string Condition(Relation relation, string values) => relation.Many
        ? $"t.id in (select {relation.OwnColumn} from {relation.JoinTable} where {relation.OtherColumn} in {values})"
        : $"t.{relation.Column} in {values}";

    /// <summary>Sort expressions never yield null, so keyset comparisons stay simple; null sorts first ascending, as in SQLite.</summary>
    private static string SortExpression(Resource resource, string name, SqlDialect sql)
    {
        var column = resource.Columns[resource.ColumnIndex(name)];
        return column.Nullable ? $"coalesce(t.{column.Sql}, {sql.NullSortKey(column.Type)})" : "t." + column.Sql;
    }

    /// <summary>Rows after the cursor: a row-value comparison when all keys share a direction (index-friendly), else the expanded form.</summary>
    public string Keyset()
    {
        var order = Order;
        if (order.All(o => o.Descending == order[0].Descending))
        {
            var op = order[0].Descending ? "<" : ">";
            return $"({string.Join(", ", order.Select(o => o.Sql))}) {op} ({string.Join(", ", order.Select((_, i) => "@k" + i))})";
        }
        var terms = new List<string>();
        for (var i = 0; i < order.Count; i++)
        {
            var equal = order.Take(i).Select((o, j) => $"{o.Sql} = @k{j}");
            var step = $"{order[i].Sql} {(order[i].Descending ? "<" : ">")} @k{i}";
            terms.Add("(" + string.Join(" and ", equal.Append(step)) + ")");
        }
        return "(" + string.Join(" or ", terms) + ")";
    }
}

/// <summary>What differs between engines in a collection query's SQL.</summary>
public abstract class SqlDialect
{
    /// <summary>The engine, as OpenTelemetry names it in db.system.name (for spans).</summary>
    public abstract string System { get; }

    /// <summary>
    /// A search for <paramref name="text"/> among the resource's rows (alias t): a join to add, a condition if the join
    /// does not itself filter, and the relevance sort key (lower is better).
    /// </summary>
    public abstract (string Join, string? Condition, string Rank) Search(Resource resource, Func<object?, string> bind, string text);

    /// <summary>A condition that <paramref name="column"/> is one of the strings bound to <paramref name="parameter"/> as a string[].</summary>
    public abstract string AnyOf(string column, string parameter);

    /// <summary>What a null of this type sorts as: below every value, of the column's own type, so keyset comparisons stay simple.</summary>
    public abstract string NullSortKey(FieldType type);
}
