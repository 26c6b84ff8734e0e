using Alba;
using KetamineBilling.Features.Fees;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Fees;

public class setting_fee_prices(AppFixture fixture) : IntegrationContext(fixture)
{
    private async Task<IReadOnlyList<FeeScheduleLine>> Schedule(string? asOf = null)
    {
        var result = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url(asOf is null ? "/api/fee-schedule" : $"/api/fee-schedule?asOf={asOf}");
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<List<FeeScheduleLine>>())!;
    }

    [Fact]
    public async Task a_price_shows_with_its_history_and_the_one_in_force_on_a_date()
    {
        await Fixture.PricedCode("96365", 450.00m, new DateOnly(2025, 1, 1), "IV infusion, initial hour");
        await Fixture.PricedCode("96365", 475.00m, new DateOnly(2026, 1, 1), "IV infusion, initial hour");
        await Fixture.PricedCode("j3490", 60.00m, new DateOnly(2025, 1, 1), "Ketamine");

        var inForce = await Schedule("2025-06-30");
        var line = inForce.Single(l => l.Code == "96365");
        Assert.Equal(450.00m, line.Price);
        Assert.Equal(2, line.History.Count);
        Assert.Contains(inForce, l => l.Code == "J3490");
        Assert.Equal(475.00m, (await Schedule()).Single(l => l.Code == "96365").Price);
        Assert.Empty(await Schedule("2024-12-31"));
    }

    [Fact]
    public async Task setting_the_same_price_again_records_nothing_new()
    {
        await Fixture.PricedCode("96372", 95.00m, new DateOnly(2025, 1, 1));
        await Fixture.PricedCode("96372", 95.00m, new DateOnly(2025, 1, 1));

        var events = await Fixture.EventsOf(KetamineBilling.Features.Fees.FeeSchedule.StreamId);
        Assert.Single(events);
    }

    [Fact]
    public async Task a_bad_code_a_negative_price_and_fractions_of_a_cent_are_400s_naming_the_field()
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetFeePrice("", -1m, null)).ToUrl("/api/fee-schedule/9636");
            s.StatusCodeShouldBe(400);
        });
        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(["code", "description", "price"], problem.Errors.Keys.Order());

        var cents = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetFeePrice("IV", 10.005m, null)).ToUrl("/api/fee-schedule/96365");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal("price", Assert.Single((await cents.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys));
    }

    [Fact]
    public async Task finance_may_read_the_schedule_but_not_change_it()
    {
        await Fixture.Call(As.Finance, s =>
        {
            s.Put.Json(new SetFeePrice("IV", 10m, null)).ToUrl("/api/fee-schedule/96365");
            s.StatusCodeShouldBe(403);
        });
        await Schedule();
    }
}
