using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace HubApi.ClientTests;

/// <summary>
/// The tester door: Swagger UI in a real browser (Debian's Chromium, headless, never a downloaded one) against the
/// real service: list firms with "Try it out", then authorize with an API key and create an industry through the UI.
/// Screenshots are kept under tests/HubApi.ClientTests/artifacts/.
/// </summary>
public sealed class SwaggerUiTests(LiveService service) : IClassFixture<LiveService>
{
    private static readonly string Chromium = Environment.GetEnvironmentVariable("HUBAPI_CHROMIUM") ?? "/usr/bin/chromium";

    private static readonly string Artifacts = Path.Combine(Root(), "tests", "HubApi.ClientTests", "artifacts");

    [Fact]
    public async Task TesterTriesListFirmsAndCreatesAnIndustryInSwaggerUi()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./test.sh installs Debian's chromium package.");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(Artifacts);
        var profile = Directory.CreateTempSubdirectory("hubapi-chromium-");
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new()
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync"],
                ViewportSize = new() { Width = 1280, Height = 1600 },
            });
            var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
            // Anything the page's CSP blocks, or any script error, shows up here and fails the test.
            var errors = new List<string>();
            page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
            page.PageError += (_, error) => errors.Add(error);

            try
            {
                await TryItOut(page);
            }
            catch
            {
                await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "swagger-ui-failure.png") });
                throw;
            }
            Assert.Empty(errors);
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private async Task TryItOut(IPage page)
    {
            await page.GotoAsync(new Uri(service.BaseAddress, "swagger/index.html").ToString());

            // List firms: expand the operation, Try it out, Execute, and read a 200 with SMIC in it.
            var listFirms = page.Locator("#operations-Firms-ListFirms");
            await listFirms.Locator(".opblock-summary").ClickAsync();
            await listFirms.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
            await listFirms.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
            var listed = listFirms.Locator(".live-responses-table .response");
            await Assertions.Expect(listed.Locator(".response-col_status")).ToHaveTextAsync(new Regex("^\\s*200"));
            await Assertions.Expect(listed.Locator(".response-col_description")).ToContainTextAsync("smic");
            await listFirms.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "swagger-ui-list-firms.png") });

            // Authorize with the API key: the lock on the write operations closes.
            await page.Locator(".auth-wrapper .authorize").ClickAsync();
            var dialog = page.Locator(".modal-ux");
            await dialog.Locator("input").FillAsync(service.AdminKey);
            await dialog.Locator("button.authorize").ClickAsync();
            await Assertions.Expect(dialog).ToContainTextAsync("Authorized");
            await dialog.Locator("button.btn-done").ClickAsync();

            // Create an industry through the UI: POST /v1/industries answers 201 with the new record.
            var create = page.Locator("#operations-Industries-CreateIndustry");
            await create.Locator(".opblock-summary").ClickAsync();
            await create.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
            await create.Locator("textarea.body-param__text").FillAsync(
                """{"id": "space-industry", "name": "Space industry", "strategic": false, "description": "Added through Swagger UI by the tests."}""");
            await create.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
            var created = create.Locator(".live-responses-table .response");
            await Assertions.Expect(created.Locator(".response-col_status")).ToHaveTextAsync(new Regex("^\\s*201"));
            await Assertions.Expect(created.Locator(".response-col_description")).ToContainTextAsync("space-industry");
            await create.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "swagger-ui-create-industry.png") });

            using var http = service.CreateClient();
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("v1/industries/space-industry")).StatusCode);
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HubApi.sln"))) return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
