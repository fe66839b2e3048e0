using HubApi;
using HubApi.Batches;
using HubApi.Changes;
using HubApi.Data;
using HubApi.Facilities;
using HubApi.Firms;
using HubApi.History;
using HubApi.Http;
using HubApi.Indicators;
using HubApi.Industries;
using HubApi.OpenApi;
using HubApi.Projects;
using HubApi.Services;
using HubApi.Sources;
using HubApi.Targets;
using HubApi.Zones;

// Settings (appsettings.json) and the db/ folder ship beside the binary: read them from there, wherever it is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddHubLogging();
builder.AddHubHardening();
builder.Services.AddHubProxyHeaders(builder.Configuration);
builder.AddHubTelemetry();
builder.Services.AddSingleton(Catalog.Resources);
builder.Services.AddHubData(builder.Configuration);
builder.Services.AddHubHttp(builder.Configuration);
builder.Services.AddHubHealth();
builder.Services.AddHubKeys(builder.Configuration);
builder.Services.AddHubOpenApi();

var app = builder.Build();

// Every commit retires the cached answers its writes change, before any of them is answered.
app.Services.GetRequiredService<IStore>().Committed += app.Services.GetRequiredService<ResponseCache>().Invalidate;

app.UseHubProxyHeaders(); // first: the client's address and scheme behind a configured proxy
app.UseHubHttp();
app.UseHubHardening();
app.UseHubTelemetry(); // with Telemetry:MetricsPort, keeps the metrics and the API each on their own port
app.UseResponseCache(); // repeated reads are answered here, after CORS, rate limits and security headers
app.UseRequestTimeouts();
app.UseAuthorization();
app.MapHubOpenApi();
app.MapHealth();
app.MapHubMetrics();

app.MapSources();
app.MapZones();
app.MapIndustries();
app.MapFirms();
app.MapTargets();
app.MapProjects();
app.MapFacilities();
app.MapServices();
app.MapIndicators();
app.MapChanges();
app.MapBatches();
app.MapHistory();

if (await Cli.RunAsync(app, args) is { } exitCode) return exitCode;

if (!app.InitializeDatabase())
{
    await app.DisposeAsync(); // flushes the log line that says why
    return 1;
}
try
{
    await app.RunAsync();
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // Another process has the port: end with a line that says what to do, and exit 1, rather than crash.
    app.Logger.LogCritical("HubApi cannot listen: {Reason} Stop the other process or choose another address with --urls.", e.Message);
    await app.DisposeAsync();
    return 1;
}
return 0;

public partial class Program;
