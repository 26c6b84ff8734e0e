using System.Net.Http.Json;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 15, quality of the UI: the main journey works with the keyboard alone. A billing administrator finds a patient,
/// opens "Take a payment", fills it and saves it with Tab, Shift+Tab, arrow keys, Enter and Space only (no click, no
/// fill), seeing where the focus is at each step; the balance changes (checked through the API).
/// </summary>
[Collection("browser")]
public class keyboard_only_payment(BrowserFixture browser)
{
    [Fact]
    public async Task a_payment_is_recorded_with_the_keyboard_alone()
    {
        var ct = TestContext.Current.CancellationToken;
        var api = await browser.ApiAsync("billing@demo.test");
        var last = "Keyworth" + Guid.NewGuid().ToString("N")[..6];
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Tabitha", last, new DateOnly(1979, 11, 3), null, null))).Id;
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), browser.Services.GetRequiredService<KetamineBilling.Infrastructure.ClinicCalendar>().Today(), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["self-pay"]));
        var before = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, ct))!;
        Assert.True(before.PatientDue > 100m, $"the patient owes {before.PatientDue}");

        var page = await browser.SignedInAsync("billing@demo.test", "/patients");

        // The directory: Tab to the search box, type the name, Tab to the patient's link, Enter.
        await TabToAsync(page, "[data-testid=patient-search] input, input[data-testid=patient-search]");
        await page.Keyboard.TypeAsync(last);
        await Expect(page.GetByTestId("patients-table").Locator("tbody tr")).ToHaveCountAsync(1);
        await TabToAsync(page, $"a[href='/patients/{patient}']");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync($"**/patients/{patient}");
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("patient-name")).ToHaveTextAsync($"Tabitha {last}");

        // The account: Tab to "Take a payment" (its focus is visible), Shift+Tab back past it and Tab again, Space opens the dialog.
        await TabToAsync(page, "[data-testid=take-payment]");
        await AssertFocusVisibleAsync(page, "Take a payment");
        await page.Keyboard.PressAsync("Shift+Tab");
        Assert.False(await FocusedMatchesAsync(page, "[data-testid=take-payment]"), "Shift+Tab left the focus on Take a payment");
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await FocusedMatchesAsync(page, "[data-testid=take-payment]"), $"Tab after Shift+Tab is on {await FocusedAsync(page)}");
        await page.Keyboard.PressAsync("Space");
        var dialog = page.Locator(".mud-dialog");
        await Expect(dialog).ToBeVisibleAsync();

        // The focus moved into the dialog, and Tab keeps it there (a focus trap) until it closes.
        await page.WaitForFunctionAsync("() => !!document.activeElement?.closest('.mud-dialog')");

        // Method: Cash, with the arrow keys and Enter.
        await TabToAsync(page, "[data-testid=method], [data-testid=method] *", inDialog: true);
        await page.Keyboard.PressAsync("ArrowDown");
        var list = page.Locator(".mud-popover-open .mud-list");
        await Expect(list).ToBeVisibleAsync();
        // MudSelect moves its value with the arrows while the list is open: down until it is Cash, then Enter closes the list.
        var method = dialog.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("method") }).Locator("input");
        for (var i = 0; i < 6 && await method.InputValueAsync() != "cash"; i++)
        {
            await page.Keyboard.PressAsync("ArrowDown");
            await page.WaitForTimeoutAsync(150); // the circuit's answer to the key
        }

        await page.Keyboard.PressAsync("Enter");
        await Expect(list).ToBeHiddenAsync();
        await Expect(method).ToHaveValueAsync("cash");

        // Amount and reference typed; the date left as today.
        await TabToAsync(page, "[data-testid=amount], [data-testid=amount] input", inDialog: true);
        await page.Keyboard.TypeAsync("125.50");
        await TabToAsync(page, "[data-testid=reference], [data-testid=reference] input", inDialog: true);
        await page.Keyboard.TypeAsync("front desk cash");
        await TabToAsync(page, "[data-testid=save]", inDialog: true);
        await AssertFocusVisibleAsync(page, "Record payment");
        await page.Keyboard.PressAsync("Enter");

        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.GetByText("Payment recorded")).ToBeVisibleAsync();
        var after = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, ct))!;
        Assert.Equal(before.TotalPaid + 125.50m, after.TotalPaid);
        Assert.Equal(before.PatientDue - 125.50m, after.PatientDue);
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync(KetamineBilling.Features.Ui.Fmt.Money(after.PatientDue));
    }

    /// <summary>Presses Tab (at most 60 times) until the focused element matches; inside an open dialog the focus never leaves it.</summary>
    private static async Task TabToAsync(IPage page, string selector, bool inDialog = false)
    {
        var seen = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            if (await FocusedMatchesAsync(page, selector)) return;
            await page.Keyboard.PressAsync("Tab");
            var focused = await FocusedAsync(page);
            seen.Add(focused);
            if (inDialog)
            {
                Assert.True(await page.EvaluateAsync<bool>("() => !!document.activeElement?.closest('.mud-dialog')"),
                    $"Tab left the open dialog for {focused}, looking for {selector}; focus went: {string.Join(" -> ", seen)}");
            }
        }

        Assert.Fail($"Tab never reached {selector}; focus went: {string.Join(" -> ", seen)}");
    }

    private static Task<bool> FocusedMatchesAsync(IPage page, string selector) =>
        page.EvaluateAsync<bool>("s => { const e = document.activeElement; return !!e && e !== document.body && e.matches(s); }", selector);

    private static Task<string> FocusedAsync(IPage page) =>
        page.EvaluateAsync<string>("""
            () => {
              const e = document.activeElement;
              if (!e || e === document.body) return 'body';
              const id = e.getAttribute('data-testid') || e.closest('[data-testid]')?.getAttribute('data-testid');
              return `${e.tagName.toLowerCase()}${id ? `[${id}]` : ''} "${(e.getAttribute('aria-label') || e.innerText || e.value || '').trim().slice(0, 30)}"`;
            }
            """);

    /// <summary>The focused element shows it has the focus: an outline of at least 2px (WCAG 2.4.7).</summary>
    private static async Task AssertFocusVisibleAsync(IPage page, string what)
    {
        var visible = await page.EvaluateAsync<bool>("""
            () => {
              const e = document.activeElement;
              const css = getComputedStyle(e);
              return css.outlineStyle !== 'none' && parseFloat(css.outlineWidth) >= 2;
            }
            """);
        Assert.True(visible, $"{what} has the keyboard focus but shows no outline");
    }
}
