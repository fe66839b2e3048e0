namespace HubApi.Data;

/// <summary>
/// Counts, in the database, the permits that processes sharing it take from a budget in each window, so that a rate
/// limit holds across replicas (<see cref="IStore.Permits"/>). Each process takes permits in chunks and spends them
/// on its own, so the database sees one statement per chunk, not one per request.
/// </summary>
public interface IPermitLedger
{
    /// <summary>
    /// Adds <paramref name="count"/> to the permits taken from <paramref name="partition"/>'s budget in the window that
    /// starts at <paramref name="windowStart"/> (Unix seconds), and returns the total taken in that window, this chunk
    /// included: what is left of the budget before it was <c>budget - (total - count)</c>. The counts of windows that
    /// ended before it may be forgotten.
    /// </summary>
    Task<long> TakeAsync(string partition, long windowStart, int count, CancellationToken cancellation);
}
