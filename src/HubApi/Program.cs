using HubApi.Changes;
using HubApi.Data;
using HubApi.Facilities;
using HubApi.Firms;
using HubApi.Http;
using HubApi.Indicators;
using HubApi.Industries;
using HubApi.Keys;
using HubApi.Projects;
using HubApi.Services;
using HubApi.Sources;
using HubApi.Targets;
using HubApi.Zones;

var builder = WebApplication.CreateBuilder(args);

// `keys create|list|revoke` manage API keys in the configured database instead of serving.
if (KeysCli.Handles(args)) return KeysCli.Run(args, builder.Configuration);

builder.AddHubLogging();
builder.Services.AddHubData(builder.Configuration);
builder.Services.AddHubHttp();
builder.Services.AddHubKeys(builder.Configuration);
builder.Services.AddHubOpenApi();

var app = builder.Build();

app.InitializeDatabase();
app.UseHubHttp();
app.MapHubOpenApi();
app.MapHealth();

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

app.Run();
return 0;

public partial class Program;
