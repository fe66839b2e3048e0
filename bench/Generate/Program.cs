// Fills a HubApi database with synthetic zones, industries and firms for the load benchmark.
//   dotnet run -c Release --project bench/Generate -- <database file> [firm count, default 1000000]
// The file is created, migrated and seeded through HubApi's own start-up code when it does not exist yet;
// a database that already holds synthetic firms is left alone. Synthetic records are marked by their ids
// (bench-...) and are never part of the default database.
using System.Diagnostics;
using System.Globalization;
using HubApi;
using HubApi.Data;
using HubApi.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: Generate <database file> [firm count]");
    return 2;
}
var file = Path.GetFullPath(args[0]);
var firmCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var clock = Stopwatch.StartNew();

// Schema and seed exactly as the service makes them on first start.
new SqliteStore(new SqliteDatabase($"Data Source={file}"), Catalog.Resources).Initialize(NullLogger.Instance);

using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
connection.Open();
Exec("pragma journal_mode = wal; pragma synchronous = off; pragma cache_size = -262144; pragma temp_store = memory;");

var existing = Scalar("select count(*) from firms where id like 'bench-%'");
if (existing > 0)
{
    Console.WriteLine($"{file} already holds {existing:N0} synthetic firms; nothing to do.");
    return 0;
}

const string Source = "shanghai-digital-hub";
// A sentence of the article, cited by every synthetic record (the seed's check_quotes.py holds quotes to the text).
const string Quote = "Shanghai is now home to 45 national research labs and various industrial zones.";
var rng = new Random(20261129);
var epoch = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
string Stamp() => epoch.AddMilliseconds(rng.NextInt64(0, 2L * 365 * 24 * 3600 * 1000)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

var seededZones = Strings("select id from zones order by rowid");
var seededIndustries = Strings("select id from industries order by rowid");
if (!seededZones.Contains("lingang")) throw new InvalidOperationException("The seed dataset no longer has the zone 'lingang'.");

string[] places =
[
    "Jade", "Harbor", "Maple", "Riverside", "Pearl", "Golden", "Lotus", "Crane", "Bamboo", "Orchid", "Silver", "Cedar",
    "Lakeside", "Sunrise", "Azure", "Willow", "Granite", "Phoenix", "Magnolia", "Summit", "Delta", "Horizon", "Canal",
    "Meridian", "Starlight",
];
string[] parkKinds = ["Science Park", "Innovation Zone", "High-Tech Park", "Digital Valley", "Industrial Park"];
string[] districts =
[
    "Pudong New Area", "Xuhui District", "Minhang District", "Jiading District", "Songjiang District", "Baoshan District",
    "Yangpu District", "Putuo District", "Qingpu District", "Fengxian District", "Jinshan District", "Changning District",
];
string[] industryNames =
[
    "Quantum computing", "Robotics", "Cloud computing", "Cybersecurity", "Fintech", "Electric vehicles", "Autonomous driving",
    "Lidar sensing", "Genomics", "Medical devices", "Vaccines", "Advanced materials", "Aerospace", "Satellite navigation",
    "5G networks", "Internet of things", "Big data", "Smart logistics", "E-commerce", "Online gaming", "Esports",
    "Virtual reality", "Digital twins", "Green energy", "Hydrogen power", "Battery storage", "Smart manufacturing",
    "Photonics", "Edge computing", "Data centers",
];
string[] adjectives =
[
    "Aurora", "Blue", "Bright", "Clear", "Crimson", "Deep", "East", "Eternal", "First", "Grand", "Great", "Green", "Happy",
    "Harmony", "High", "Infinite", "Jade", "Lucky", "Modern", "New", "Noble", "North", "Nova", "Ocean", "Pacific", "Prime",
    "Rapid", "Red", "Rising", "Royal", "Sky", "Smart", "Solid", "South", "Star", "Sun", "Swift", "True", "United", "Vast",
    "West", "White", "Wise", "Yellow", "Zen", "Bold", "Calm", "Dragon", "Falcon", "Tiger",
];
string[] nouns =
[
    "Bridge", "Cloud", "Crystal", "Dawn", "Engine", "Field", "Flow", "Forest", "Gate", "Grid", "Harbor", "Horizon", "Lake",
    "Light", "Link", "Matrix", "Mountain", "Orbit", "Path", "Peak", "Pixel", "Point", "Pulse", "River", "Road", "Rock",
    "Signal", "Spark", "Sphere", "Spring", "Stone", "Stream", "Tide", "Tower", "Vector", "Vista", "Wave", "Wind", "Wing", "Zone",
];
string[] kinds =
[
    "Semiconductor", "Microelectronics", "Biotech", "Pharmaceuticals", "Robotics", "Software", "Networks", "Data", "Media",
    "Technologies", "Intelligence", "Materials", "Energy", "Logistics", "Systems", "Devices", "Labs", "Digital", "Cloud", "Vision",
];
string[] suffixes = ["Co., Ltd.", "Group", "Inc.", "Holdings", "Corporation", "Technology Co."];
// Words a q= search can find: common ones (in many descriptions) and rarer ones.
string[] topics =
[
    "chip", "wafer", "lithography", "packaging", "sensor", "lidar", "radar", "battery", "robot", "drone", "genome", "vaccine",
    "antibody", "diagnostics", "imaging", "cloud", "database", "payments", "blockchain", "ledger", "streaming", "animation",
    "gaming", "metaverse", "translation", "speech", "vision", "recommendation", "logistics", "warehouse", "satellite",
    "navigation", "photonics", "laser", "fiber", "antenna", "modem", "router", "firmware", "compiler", "simulation",
    "analytics", "forecasting", "insurance", "lending", "retail", "charging", "hydrogen", "solar", "turbine",
];
string[] verbs = ["designs", "builds", "develops", "manufactures", "operates", "researches", "licenses", "supplies", "tests", "integrates"];
string[] clients = ["carmakers", "hospitals", "banks", "retailers", "factories", "schools", "city agencies", "studios", "airlines", "telecom operators"];

using (var tx = connection.BeginTransaction())
{
    var now = Timestamps.Now();
    var insertCitation = Prepare(tx, "insert into citations (resource, record_id, position, source_id, quote) values ($r, $id, 0, $s, $q)", "$r", "$id", "$s", "$q");
    // Search rows are numbered as the service numbers them (Data/Sqlite/FullText.cs): the resource's base plus the record's row_id.
    var insertSearch = new[] { "industries", "zones", "firms" }.ToDictionary(r => r, r => Prepare(tx,
        $"insert into search (rowid, name, body) values ({FullText.Base(Catalog.Resources.Get(r)!)} + (select row_id from {r} where id = $id), $name, $body)",
        "$id", "$name", "$body"));
    var insertChange = Prepare(tx, "insert into changes (resource, record_id, op, version, at) values ($r, $id, 'created', 1, $at)", "$r", "$id", "$at");
    void Details(string resource, string id, string name, string description, string at)
    {
        Run(insertCitation, resource, id, Source, Quote);
        Run(insertSearch[resource], id, name, description + "\n" + Quote);
        Run(insertChange, resource, id, at);
    }

    // Industries: the seeded ones plus 30 synthetic.
    var insertIndustry = Prepare(tx, "insert into industries (id, name, strategic, description, version, created_at, updated_at) values ($id, $name, 0, $d, 1, $at, $at)", "$id", "$name", "$d", "$at");
    var industries = new List<string>(seededIndustries);
    foreach (var name in industryNames)
    {
        var id = "bench-" + Slug(name);
        var description = $"{name}: a synthetic industry for load tests, with firms that work on {Pick(topics)} and {Pick(topics)}.";
        Run(insertIndustry, id, name, description, now);
        Details("industries", id, name, description, now);
        industries.Add(id);
    }

    // Zones: the seeded ones plus 50 synthetic, each a base for three industries.
    var insertZone = Prepare(tx, "insert into zones (id, name, district, description, version, created_at, updated_at) values ($id, $name, $district, $d, 1, $at, $at)", "$id", "$name", "$district", "$d", "$at");
    var insertZoneIndustry = Prepare(tx, "insert or ignore into zone_industries (zone_id, industry_id) values ($z, $i)", "$z", "$i");
    var zones = new List<string>(seededZones.OrderBy(z => z == "lingang" ? 0 : 1)); // lingang is the biggest zone
    for (var i = 0; i < 50; i++)
    {
        var name = $"{places[i % places.Length]} {parkKinds[i / places.Length % parkKinds.Length]}";
        var id = "bench-" + Slug(name);
        var description = $"A synthetic zone in {Pick(districts)} for load tests, home to firms in {Pick(topics)}, {Pick(topics)} and {Pick(topics)}.";
        Run(insertZone, id, name, Pick(districts), description, now);
        Details("zones", id, name, description, now);
        for (var k = 0; k < 3; k++) Run(insertZoneIndustry, id, Pick(industries));
        zones.Add(id);
    }

    // Firms go to zones by a Zipf law (zone k gets a share proportional to 1/(k+1)): lingang holds about a fifth of them,
    // enough for a 10,000-page walk of one filtered, sorted list.
    var weights = zones.Select((_, k) => 1.0 / (k + 1)).ToArray();
    var cumulative = new double[weights.Length];
    var sum = 0.0;
    for (var k = 0; k < weights.Length; k++) cumulative[k] = sum += weights[k];

    var insertFirm = Prepare(tx, "insert into firms (id, name, zone_id, description, version, created_at, updated_at) values ($id, $name, $zone, $d, 1, $c, $u)", "$id", "$name", "$zone", "$d", "$c", "$u");
    var insertFirmIndustry = Prepare(tx, "insert or ignore into firm_industries (firm_id, industry_id) values ($f, $i)", "$f", "$i");
    for (var n = 1; n <= firmCount; n++)
    {
        var id = $"bench-firm-{n:D7}";
        var name = $"{Pick(adjectives)} {Pick(nouns)} {Pick(kinds)} {Pick(suffixes)}";
        var slot = Array.BinarySearch(cumulative, rng.NextDouble() * sum);
        var zone = zones[Math.Min(slot < 0 ? ~slot : slot, zones.Count - 1)];
        var description = $"{name} {Pick(verbs)} {Pick(topics)} and {Pick(topics)} systems for {Pick(clients)}, " +
                          $"with research in {Pick(topics)}, {Pick(topics)} and {Pick(topics)}.";
        var created = Stamp();
        var updated = string.CompareOrdinal(created, now) < 0 ? created : now;
        Run(insertFirm, id, name, zone, description, created, updated);
        var count = 1 + rng.Next(3);
        for (var k = 0; k < count; k++) Run(insertFirmIndustry, id, Pick(industries));
        Details("firms", id, name, description, created);
        if (n % 100_000 == 0) Console.WriteLine($"{n:N0} firms ({clock.Elapsed.TotalSeconds:F0} s)");
    }
    tx.Commit();
}

// Segments written during a bulk load are merged into one, as a DBA would after an import.
Exec("insert into search (search) values ('optimize')");
Exec("pragma wal_checkpoint(truncate)");
Console.WriteLine($"Generated {firmCount:N0} firms in {file} in {clock.Elapsed.TotalSeconds:F0} s " +
                  $"({Scalar("select count(*) from firms"):N0} firms, {Scalar("select count(*) from firm_industries"):N0} firm industries, " +
                  $"{Scalar("select count(*) from zones")} zones, {Scalar("select count(*) from industries")} industries).");
return 0;

string Pick(IReadOnlyList<string> from) => from[rng.Next(from.Count)];

void Exec(string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

long Scalar(string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    return (long)command.ExecuteScalar()!;
}

List<string> Strings(string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    using var reader = command.ExecuteReader();
    var list = new List<string>();
    while (reader.Read()) list.Add(reader.GetString(0));
    return list;
}

SqliteCommand Prepare(SqliteTransaction tx, string sql, params string[] names)
{
    var command = connection.CreateCommand();
    command.Transaction = tx;
    command.CommandText = sql;
    foreach (var name in names) command.Parameters.Add(new SqliteParameter { ParameterName = name });
    command.Prepare();
    return command;
}

static void Run(SqliteCommand command, params object[] values)
{
    for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
    command.ExecuteNonQuery();
}

static string Slug(string name) =>
    string.Join('-', name.ToLowerInvariant().Split(' ', ',', '.', '-').Where(w => w.Length > 0)).Replace("+", "");
