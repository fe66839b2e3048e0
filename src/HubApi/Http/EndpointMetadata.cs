using HubApi.Resources;

namespace HubApi.Http;

/// <summary>Endpoint metadata: a collection of a resource (nested under a parent's record when it has one).</summary>
public sealed record CollectionEndpoint(Resource Resource, Resource? Parent = null);

/// <summary>Endpoint metadata: a resource's export in one media type (CSV or NDJSON).</summary>
public sealed record ExportEndpoint(Resource Resource, string MediaType);

/// <summary>Endpoint metadata: a resource's facets operation, whose filters are the list's.</summary>
public sealed record FacetEndpoint(Resource Resource);

/// <summary>Endpoint metadata: an operation addressed by a record id.</summary>
public sealed record ItemEndpoint(Resource Resource);

public enum WriteKind { Create, Replace, Patch, Delete }

/// <summary>Endpoint metadata: a write operation of a resource.</summary>
public sealed record WriteEndpoint(Resource Resource, WriteKind Kind);

/// <summary>Endpoint metadata: a resource's batch write (POST /v1/{resource}/batch), a body of many records.</summary>
public sealed record BatchEndpoint(Resource Resource);

/// <summary>Endpoint metadata: the change feed, as pages or as a stream of events.</summary>
public sealed record FeedEndpoint(bool Stream);

/// <summary>Endpoint metadata: a record's GET, which also reads any earlier version (<c>?version=N</c>).</summary>
public sealed record VersionedEndpoint(Resource Resource);
