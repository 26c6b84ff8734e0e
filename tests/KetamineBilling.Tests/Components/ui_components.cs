using Bunit;
using KetamineBilling.Features.Analytics.Pages;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Ui;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace KetamineBilling.Tests.Components;

/// <summary>Components with logic of their own, rendered alone (bUnit): no host, no database.</summary>
public class ui_components : BunitContext
{
    public ui_components()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Theory]
    [InlineData(0.05, false, "mud-success-text")]
    [InlineData(-0.05, false, "mud-error-text")]
    [InlineData(-3.5, true, "mud-success-text")]
    [InlineData(3.5, true, "mud-error-text")]
    public void a_kpi_change_is_green_when_it_is_better_and_red_when_worse(double change, bool lowerIsBetter, string colour)
    {
        var card = Render<KpiCard>(p => p
            .Add(c => c.Title, "Denial rate")
            .Add(c => c.Value, "10.0%")
            .Add(c => c.Change, Fmt.Change((decimal)change))
            .Add(c => c.ChangeValue, (decimal)change)
            .Add(c => c.LowerIsBetter, lowerIsBetter));

        Assert.Contains(colour, card.Find("[data-testid=kpi] .mud-typography-caption:last-child").ClassList);
        Assert.Contains(Fmt.Change((decimal)change), card.Markup);
    }

    [Fact]
    public void a_kpi_with_nothing_to_compare_shows_no_change()
    {
        var card = Render<KpiCard>(p => p.Add(c => c.Title, "Days in A/R").Add(c => c.Value, "-").Add(c => c.Change, "").Add(c => c.ChangeValue, null));

        Assert.Equal(2, card.FindAll(".mud-typography").Count);
    }

    [Theory]
    [InlineData("1234.5", "$1,234.50")]
    [InlineData("-60", "-$60.00")]
    [InlineData("0", "$0.00")]
    [InlineData("0.005", "$0.01")]
    public void money_shows_the_dollar_sign_and_two_decimals_in_the_clinic_locale_whatever_the_server_culture(string amount, string shown)
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var money = Render<Money>(p => p.Add(m => m.Value, decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(shown, money.Find("span.kb-money").TextContent);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void each_worklist_item_links_to_the_page_that_resolves_it()
    {
        var patient = Guid.NewGuid();
        var claim = Guid.NewGuid();
        ExceptionItem Item(string type, Guid? claimId = null) =>
            new($"{type}:1", type, patient, "Ada Abbott", claimId, null, 10m, new DateOnly(2026, 1, 1), 40, "detail", "resolution");

        Assert.Equal($"/claims/{claim}", Worklist.Where(Item("denied-line", claim)));
        Assert.Equal($"/claims/{claim}", Worklist.Where(Item("claim-no-response", claim)));
        Assert.Equal($"/patients/{patient}", Worklist.Where(Item("unbilled-session")));
        Assert.Equal($"/patients/{patient}", Worklist.Where(Item("credit-balance")));
        Assert.Equal("/remittances", Worklist.Where(Item("unmatched-remittance-item")));
        Assert.Equal("/deposits", Worklist.Where(Item("undeposited-receipt")));
        Assert.All(ExceptionsWorklist.Types, t => Assert.NotEqual(t, Worklist.Title(t)));
    }
}
