using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 15: every page passes axe-core (Deque's maintained Playwright package) with no serious or critical violation.</summary>
public static class Accessibility
{
    /// <summary>Runs axe-core on the page as it is now (open dialogs included) and fails naming each serious or critical
    /// violation with the elements it found it on. <paramref name="blazor"/>: the page is a Blazor page (waits for its circuit);
    /// false for the plain HTML sign-in pages.</summary>
    public static async Task AssertAccessibleAsync(this IPage page, string what, bool blazor = true)
    {
        if (blazor) await BrowserFixture.LiveAsync(page);
        // A toast fading in or out is half transparent, so its text fails the contrast check for a moment: wait for its animation.
        try
        {
            await page.WaitForFunctionAsync(
                "() => document.getAnimations().filter(a => a.effect && a.effect.target && a.effect.target.closest && a.effect.target.closest('.mud-snackbar'))" +
                ".every(a => a.playState !== 'running')", null, new() { Timeout = 5_000 });
        }
        catch (TimeoutException)
        {
            // Still moving after 5 s: axe judges the page as it is.
        }

        // Only the violations are gathered (axe skips the details of what passed): the same findings, several times faster.
        var result = await page.RunAxe(new AxeRunOptions { ResultTypes = [ResultType.Violations] });
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0,
            $"{what} ({page.Url}) has {bad.Count} serious or critical accessibility violation(s):\n" + string.Join("\n", bad.Select(Describe)));
    }

    private static string Describe(AxeResultItem v) =>
        $"- {v.Impact} {v.Id}: {v.Help}\n" + string.Join("\n", v.Nodes.Take(5).Select(n => $"    {n.Target}: {Short(n.Html)}"));

    private static string Short(string html) => html.Length <= 200 ? html : html[..200] + "…";
}
