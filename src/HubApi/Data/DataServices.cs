using HubApi.Data.Postgres;
using HubApi.Data.Sqlite;
using HubApi.Resources;

namespace HubApi.Data;

public static class DataServices
{
    public const string DefaultConnectionString = "Data Source=data/hub.db";

    /// <summary>
    /// The store that Database:Provider names, over ConnectionStrings:Hub: Sqlite (the default; a file) or Postgres (an
    /// Npgsql connection string, several hosts allowed).
    /// </summary>
    public static IServiceCollection AddHubData(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(provider => Create(configuration, provider.GetRequiredService<ResourceCatalog>()));

    public static IStore Create(IConfiguration configuration, ResourceCatalog catalog)
    {
        var connectionString = configuration.GetConnectionString("Hub") ?? DefaultConnectionString;
        return configuration["Database:Provider"] switch
        {
            null or "" or "Sqlite" => new SqliteStore(new SqliteDatabase(connectionString, configuration.GetValue<long?>("Database:MaxPageCount")), catalog),
            "Postgres" => new PostgresStore(configuration.GetConnectionString("Hub")
                ?? throw new InvalidOperationException("Database:Provider Postgres needs ConnectionStrings:Hub, an Npgsql connection string."), catalog),
            var other => throw new InvalidOperationException($"Database:Provider '{other}' is not one this build knows: use Sqlite or Postgres."),
        };
    }
}
