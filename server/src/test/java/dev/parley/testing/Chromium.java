package dev.parley.testing;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * The system's Chromium (Debian's package), driven by Playwright, for a test class. Playwright's own
 * browser download is never used: the build must work offline. Each test opens pages with
 * {@link #newPage}; after the test every page is saved as {@code target/screenshots/<test>[-<name>].png},
 * closed, and the test fails if a page broke the Content-Security-Policy or threw an uncaught error.
 * Register it with {@code @RegisterExtension static Chromium browser = Chromium.create();}.
 */
public final class Chromium implements BeforeAllCallback, AfterAllCallback, AfterEachCallback {
    public static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final List<String> ARGS = List.of("--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic");
    // Chromium reports CSP violations on the console too, but this also names the directive and the
    // blocked thing, and survives reloads because init scripts run on every new document.
    private static final String CSP_PROBE = """
            document.addEventListener('securitypolicyviolation', (e) =>
              console.error('[csp] ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
            """;

    private Playwright playwright;
    private Browser browser;
    private final List<Tab> tabs = new ArrayList<>();

    /** A page in its own browser context (own cookies and localStorage: another user) and what it reported. */
    private record Tab(String name, BrowserContext context, Page page, List<String> problems, List<String> console) {}

    private Chromium() {}

    public static Chromium create() {
        return new Chromium();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Path exe = executable();
        playwright = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        PlaywrightAssertions.setDefaultAssertionTimeout(15_000);
        browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(exe).setHeadless(true).setArgs(ARGS).setTimeout(60_000));
    }

    /**
     * The browser binary: {@code PARLEY_CHROMIUM}, else the first on the PATH of
     * {@code chromium-headless-shell} (Debian's package of the same name: Chromium's engine without the
     * browser's own windows and the pages of its interface, which cost CPU for every new page),
     * {@code chromium} and {@code chromium-browser}.
     */
    static Path executable() {
        String configured = System.getenv("PARLEY_CHROMIUM");
        if (configured != null && !configured.isBlank()) return Path.of(configured);
        String path = Objects.requireNonNullElse(System.getenv("PATH"), "/usr/bin:/bin");
        return Stream.of("chromium-headless-shell", "chromium", "chromium-browser")
                .flatMap(n -> Stream.of(path.split(File.pathSeparator)).map(dir -> Path.of(dir, n)))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(
                        "browser tests need Chromium: apt-get install -y chromium-headless-shell (or chromium, or set PARLEY_CHROMIUM to the binary)"));
    }

    /** A desktop-sized page in a fresh context (its own storage: another user), not navigated yet. */
    public Page newPage(String name) {
        return newPage(name, new Browser.NewContextOptions().setViewportSize(1280, 800));
    }

    /**
     * A desktop page that ignores the Content-Security-Policy, for XSS tests: the CSP would block an
     * injected inline handler by itself, hiding an escaping bug in the client behind it.
     */
    public Page newPageWithoutCsp(String name) {
        return newPage(name, new Browser.NewContextOptions().setViewportSize(1280, 800).setBypassCSP(true));
    }

    /** A phone: small viewport, touch, the meta viewport honoured. */
    public Page newPhonePage(String name, int width, int height) {
        return newPage(name, new Browser.NewContextOptions().setViewportSize(width, height).setIsMobile(true).setHasTouch(true));
    }

    private Page newPage(String name, Browser.NewContextOptions options) {
        BrowserContext ctx = browser.newContext(options.setLocale("en-GB").setTimezoneId("UTC"));
        ctx.setDefaultTimeout(15_000);
        ctx.addInitScript(CSP_PROBE);
        Page page = ctx.newPage();
        Tab tab = new Tab(name, ctx, page, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        page.onConsoleMessage(m -> {
            tab.console().add(m.type() + ": " + m.text());
            if (m.text().startsWith("[csp]") || m.text().contains("Content Security Policy")) tab.problems().add("CSP: " + m.text());
        });
        page.onPageError(err -> tab.problems().add("uncaught error: " + err));
        tabs.add(tab);
        return page;
    }

    /** What the page has reported so far (CSP violations, uncaught errors), taken: for a test that provokes one on purpose. */
    public List<String> takeProblems(Page page) {
        for (Tab t : tabs) {
            if (t.page() == page) {
                List<String> taken = List.copyOf(t.problems());
                t.problems().removeAll(taken);
                return taken;
            }
        }
        throw new IllegalArgumentException("not a page of this browser");
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        String test = context.getRequiredTestMethod().getName();
        Files.createDirectories(SCREENSHOTS);
        List<String> problems = new ArrayList<>();
        try {
            for (int i = 0; i < tabs.size(); i++) {
                Tab t = tabs.get(i);
                String file = i == 0 ? test + ".png" : test + "-" + t.name() + ".png";
                try {
                    t.page().screenshot(new Page.ScreenshotOptions().setPath(SCREENSHOTS.resolve(file)));
                } catch (RuntimeException e) {
                    System.out.println("could not save " + file + ": " + e.getMessage());
                }
                t.problems().forEach(p -> problems.add(t.name() + ": " + p));
                if (context.getExecutionException().isPresent() || !t.problems().isEmpty()) {
                    System.out.println("----- browser console of " + t.name() + " in " + test + " -----");
                    t.console().forEach(System.out::println);
                }
            }
        } finally {
            for (Tab t : tabs) {
                try {
                    t.context().close();
                } catch (RuntimeException ignored) {
                    // the browser is going away anyway
                }
            }
            tabs.clear();
        }
        if (!problems.isEmpty()) throw new AssertionError("the page reported problems:\n" + String.join("\n", problems));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (browser != null) browser.close();
        if (playwright != null) playwright.close();
    }
}
