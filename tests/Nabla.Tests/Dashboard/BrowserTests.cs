using System.Globalization;
using Nabla.Cli.Dashboard;
using Nabla.Tests.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using static Nabla.Tests.Dashboard.DashboardTesting;

namespace Nabla.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium, headless, driven through its chromedriver by Selenium
/// (<c>./test.sh</c> installs both). Set NABLA_SCREENSHOTS=DIR to keep screenshots of the pages (the README's).
/// </summary>
[Collection("Dashboard")]
public sealed class BrowserTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium", Driver = "/usr/bin/chromedriver";
    private readonly ChromeDriver _browser;

    public BrowserTests()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(Driver),
            "The browser test needs Debian's chromium and chromium-driver: ./test.sh installs them (apt-get install chromium chromium-driver).");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,2100");
        _browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    public void Dispose() => _browser.Quit();

    private WebDriverWait Wait(double seconds) => new(_browser, TimeSpan.FromSeconds(seconds)) { PollingInterval = TimeSpan.FromMilliseconds(100) };

    // Read through script, not element handles: the page redraws its elements as data arrives.
    private string Script(string js) => Convert.ToString(_browser.ExecuteScript(js), CultureInfo.InvariantCulture) ?? "";

    private int Points(string chart) => int.Parse(Script($"return document.getElementById('{chart}').dataset.points || '0'"), CultureInfo.InvariantCulture);

    private string Text(string id) => Script($"const e = document.getElementById('{id}'); return e ? e.textContent : ''");

    private void Screenshot(string name)
    {
        if (Environment.GetEnvironmentVariable("NABLA_SCREENSHOTS") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            _browser.GetScreenshot().SaveAsFile(Path.Combine(dir, name));
        }
    }

    [Fact]
    public async Task LivePage_CurvesGainPointsWhileTraining()
    {
        using var root = new TempDir();
        int port = FreePort();
        var o = new StringWriter();
        var err = new StringWriter();
        // Fashion-MNIST, 5 epochs of a model wide enough to take a few seconds: the page must see the run while it runs.
        var training = Task.Run(() => Nabla.Cli.Program.Run(
            ["train", "--epochs", "5", "--hidden", "512,256", "--dashboard", "--port", port.ToString(CultureInfo.InvariantCulture), "--runs", root.Path],
            TextWriter.Synchronized(o), TextWriter.Synchronized(err)));
        WaitForPort(port, TimeSpan.FromSeconds(60));
        Assert.False(training.IsCompleted, $"training ended at once: {err} {o}");
        try
        {
            _browser.Navigate().GoToUrl($"http://127.0.0.1:{port}/");
        }
        catch (WebDriverException)
        {
            bool listening = Listening(port);
            string curl = "";
            try { curl = await Http.GetStringAsync($"http://127.0.0.1:{port}/api/runs"); } catch (Exception e) { curl = e.Message; }
            int code = await training;
            Assert.Fail($"refused: listening {listening} http {curl[..Math.Min(80, curl.Length)]} exit {code}: {err}");
        }

        int first = 0;
        try
        {
            Wait(60).Until(_ => (first = Points("chart-loss")) > 0);
        }
        catch (WebDriverTimeoutException)
        {
            var logs = string.Join("\n", _browser.Manage().Logs.GetLog(LogType.Browser).Select(l => l.Message));
            Assert.Fail($"no points: {Text("connection")} | {Text("run-list")} | {Text("stats")} | {logs}");
        }
        Assert.False(training.IsCompleted, "the run ended before the page saw it: make it longer");
        Wait(60).Until(_ => Points("chart-loss") > first);
        Assert.False(training.IsCompleted, "the curve grew only after the run had ended: make the run longer");
        int second = Points("chart-loss");
        Assert.True(second > first, $"the loss curve went from {first} to {second} points");
        Assert.True(Points("chart-grad") > 0, "gradient norms drawn");
        Assert.True(Points("chart-lr") > 0, "learning rate drawn");
        Screenshot("dashboard-live.png");
        Assert.Equal(0, await training.WaitAsync(TimeSpan.FromMinutes(3)));

        // The run's end reached the page before the server stopped: every epoch and the final status.
        Wait(10).Until(_ => Text("stats").Contains("finished", StringComparison.Ordinal));
        Wait(10).Until(_ => Points("chart-accuracy") >= 10); // 5 epochs: train and test accuracy
        Assert.Equal(10, _browser.FindElements(By.CssSelector("#confusion tr")).Count - 1);
        Assert.NotEmpty(_browser.FindElements(By.CssSelector("#misclassified canvas")));
        Assert.Equal(512, _browser.FindElements(By.CssSelector("#units canvas")).Count); // every unit of the first layer
        Screenshot("dashboard-finished.png");
    }

    [Fact]
    public async Task FinishedRunsReopen_TheTextbooksSgdAndAdamSideBySide()
    {
        using var root = new TempDir();
        var (code, _, err) = Run("seed", "--dashboard", "--runs", root.Path);
        Assert.True(code == 0, err);
        int port = FreePort();
        var serving = Task.Run(() => Nabla.Cli.Program.Run(["dashboard", root.Path, "--port", port.ToString(CultureInfo.InvariantCulture)], TextWriter.Null, TextWriter.Null));
        try
        {
            WaitForPort(port, TimeSpan.FromSeconds(30));
            _browser.Navigate().GoToUrl($"http://127.0.0.1:{port}/");
            // Both phases listed and overlaid: the loss chart holds SGD's 10 epochs and Adam's 3 after them.
            Wait(20).Until(_ => Script("return document.querySelectorAll('#run-list input:checked').length") == "2");
            Wait(20).Until(_ => Points("chart-accuracy") == 2 * (10 + 3));
            Assert.Contains("/sgd", Text("run-list"));
            Assert.Contains("/adam", Text("run-list"));
            Wait(20).Until(_ => Script("return document.getElementById('focus').value").EndsWith("/adam", StringComparison.Ordinal)); // the details follow the newest phase
            Wait(20).Until(_ => Text("epoch-shown") == "13"); // Adam's last epoch, numbered after SGD's ten
            Screenshot("dashboard-seed.png");
        }
        finally
        {
            StopSignal.Request();
            Assert.Equal(0, await serving.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task Explorer_ShowsTheTextbooksNumbers_AndFollowsAnEditedWeight()
    {
        using var root = new TempDir();
        int port = FreePort();
        var serving = Task.Run(() => Nabla.Cli.Program.Run(["dashboard", root.Path, "--port", port.ToString(CultureInfo.InvariantCulture)], TextWriter.Null, TextWriter.Null));
        try
        {
            WaitForPort(port, TimeSpan.FromSeconds(30));
            _browser.Navigate().GoToUrl($"http://127.0.0.1:{port}/#explorer");
            _browser.FindElement(By.Id("load-example")).Click();
            Wait(20).Until(_ => Text("ex-loss") == "0.2084");
            // Section 8.5.2 prints W1.grad = [[0.1375, 0.1375], [-0.1375, -0.1375]].
            Assert.Equal(["0.1375", "0.1375", "-0.1375", "-0.1375"], Cells("q-1"));
            Assert.Equal(["0.1375", "0.1375", "-0.1375", "-0.1375"], Cells("autograd-1"));
            Assert.Equal(["0.7311", "0.7311"], Cells("z-1"));
            Screenshot("explorer.png");

            var before = Values("q-0");
            var w = _browser.FindElement(By.Id("w-0-0-0")); // W0[0][0], 0 in the example
            w.Clear();
            w.SendKeys("0.5");
            Wait(20).Until(_ => Text("ex-loss") is { Length: > 0 } f && f != "0.2084");
            Wait(20).Until(_ => !Values("q-0").SequenceEqual(before));
            var q0 = Values("q-0");
            var autograd0 = Values("autograd-0");
            Assert.Equal(q0.Length, autograd0.Length);
            for (int i = 0; i < q0.Length; i++) Assert.Equal(q0[i], autograd0[i], 6);
            Assert.NotEqual(before[0], q0[0], 3);
        }
        finally
        {
            StopSignal.Request();
            Assert.Equal(0, await serving.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    private string[] Cells(string table) =>
        Script($"return [...document.querySelectorAll('#{table} td')].map(c => c.textContent).join('|')").Split('|');

    private double[] Values(string table) =>
        [.. Script($"return [...document.querySelectorAll('#{table} td')].map(c => c.dataset.value).join('|')").Split('|').Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
}
