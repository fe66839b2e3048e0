namespace HubApi.Query;

/// <summary>Validates a batch's query: `mode`, create (the default) or upsert.</summary>
public sealed class BatchQueryValidator : QueryValidator
{
    public BatchQueryValidator() : base(["mode"], lists: []) =>
        Param("mode", v => v is "create" or "upsert", "mode must be create (the default: a row whose id exists fails the batch) or upsert (it replaces the record).");
}
