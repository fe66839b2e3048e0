using Microsoft.AspNetCore.WebUtilities;

namespace HubApi.Http;

/// <summary>Next-page links, for collections (by cursor) and the change feed (by sequence number) alike.</summary>
public static class Links
{
    /// <summary>The request's absolute URL with <paramref name="parameter"/> set to <paramref name="value"/> and its other parameters kept.</summary>
    public static string Next(HttpRequest request, string parameter, string value)
    {
        var query = request.Query.Where(p => p.Key != parameter)
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString()))
            .Append(new(parameter, value));
        return QueryHelpers.AddQueryString(string.Concat(request.Scheme, "://", request.Host.Value, request.PathBase.Value, request.Path.Value), query);
    }

    /// <summary>The Link header of a page whose next page starts at that value, or null on the last page.</summary>
    public static string? NextHeader(HttpRequest request, string parameter, string? value) =>
        value is null ? null : $"<{Next(request, parameter, value)}>; rel=\"next\"";
}
