using System.Text;
using Dapper;
using HubApi.Query;
using HubApi.Resources;

namespace HubApi.Data.Postgres;

/// <summary>
/// A collection query as PostgreSQL SQL, the twin of <see cref="Sqlite.QueryPlan"/>: the same conditions, the same order
/// (always ending in a unique key) and the same fingerprint, so pages and cursors behave alike on both engines. The only
/// identifiers that reach SQL come from the resource definitions; every value is a bound parameter.
/// </summary>
internal sealed record PgQueryPlan(Resource Resource, string Join, string Where, DynamicParameters Parameters, List<(string Sql, bool Descending)> Order, string Fingerprint)
{
    public static PgQueryPlan For(ListQuery query)
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
        if (query.Search is { } search)
        {
            (join, var matches) = PgFullText.Match(Bind, search);
            where.Add(matches);
            fingerprint.Append("|q=").Append(search);
        }

        var order = new List<(string, bool)>();
        foreach (var key in query.Sort)
        {
            order.Add((SortExpression(resource, key.Name), key.Descending));
            fingerprint.Append("|sort:").Append(key.Descending ? "-" : "").Append(key.Name);
        }
        if (query.Search is not null && query.Sort.Count == 0) order.Add((PgFullText.Rank, false));
        if (!query.Sort.Any(k => k.Name == "id")) order.Add(("t.id", false));

        return new PgQueryPlan(resource, join, where.Count == 0 ? "true" : string.Join(" and ", where), parameters, order, fingerprint.ToString());
    }

    private static string Condition(Relation relation, string values) => relation.Many
        ? $"t.id in (select {relation.OwnColumn} from {relation.JoinTable} where {relation.OtherColumn} in {values})"
        : $"t.{relation.Column} in {values}";

    /// <summary>
    /// Sort expressions never yield null, so keyset comparisons stay simple; null sorts first ascending, as in SQLite.
    /// Each keeps its column's type (a bigint stand-in for bigint columns), so cursor values read back as they were.
    /// </summary>
    private static string SortExpression(Resource resource, string name)
    {
        var column = resource.Columns[resource.ColumnIndex(name)];
        return !column.Nullable ? "t." + column.Sql : column.Type switch
        {
            FieldType.Text => $"coalesce(t.{column.Sql}, '')",
            FieldType.Number => $"coalesce(t.{column.Sql}, -9.0e18::float8)",
            _ => $"coalesce(t.{column.Sql}, -9000000000000000000::bigint)",
        };
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
